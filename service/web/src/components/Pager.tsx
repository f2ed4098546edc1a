/** "21–40 of 97" with Previous and Next buttons, under a paginated table. */

interface PagerProps {
  /** What is paged, for screen readers ("Pages of the log"). */
  label: string;
  page: number;
  pageSize: number;
  total: number;
  loading: boolean;
  onPage(page: number): void;
  testIds: { range: string; previous: string; next: string };
}

const BUTTON = "rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-100 disabled:opacity-40";

export function Pager({ label, page, pageSize, total, loading, onPage, testIds }: PagerProps) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav className="flex flex-wrap items-center justify-between gap-3 text-sm" aria-label={label}>
      <p className="text-slate-600" data-testid={testIds.range}>
        {loading ? "Loading…" : `${first}–${last} of ${total}`}
      </p>
      <div className="flex items-center gap-2">
        <button
          type="button"
          data-testid={testIds.previous}
          disabled={page <= 1}
          onClick={() => onPage(page - 1)}
          className={BUTTON}
        >
          Previous
        </button>
        <span className="tabular-nums">
          Page {page} of {pages}
        </span>
        <button
          type="button"
          data-testid={testIds.next}
          disabled={page >= pages}
          onClick={() => onPage(page + 1)}
          className={BUTTON}
        >
          Next
        </button>
      </div>
    </nav>
  );
}
