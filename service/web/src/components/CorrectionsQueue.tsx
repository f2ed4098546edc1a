/**
 * The corrections people sent, to review: filtered by status (pending first), a page at a time.
 * Accepting or rejecting a row updates it in place; the parent hears of it to refresh the figures.
 * A decision names the text the admin saw: if the person changed it meanwhile, the server answers
 * 409, the error says so and the page is fetched again to show the new text.
 */
import { useCallback, useEffect, useState } from "react";
import {
  CORRECTION_STATUSES,
  fetchCorrections,
  reviewCorrection,
  type CorrectionPage,
  type CorrectionStatus,
} from "../adminApi";
import { ApiError } from "../api";
import { CorrectionTable, type Verdict } from "./CorrectionTable";
import { Pager } from "./Pager";

interface CorrectionsQueueProps {
  token: string;
  /** Changes when the dashboard's Refresh is pressed. */
  reload: number;
  onError(caught: unknown): void;
  onReviewed(): void;
}

const PAGE_SIZE = 10;

export function CorrectionsQueue({ token, reload, onError, onReviewed }: CorrectionsQueueProps) {
  const [status, setStatus] = useState<CorrectionStatus | "">("pending");
  const [page, setPage] = useState(1);
  const [answer, setAnswer] = useState<CorrectionPage | null>(null);
  const [loading, setLoading] = useState(false);
  const [sending, setSending] = useState<ReadonlySet<string>>(new Set());
  const [stale, setStale] = useState(0);

  useEffect(() => {
    let live = true;
    setLoading(true);
    fetchCorrections({ status, page, pageSize: PAGE_SIZE }, token)
      .then((next) => {
        if (live) setAnswer(next);
      })
      .catch((caught) => {
        if (live) onError(caught);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [status, page, token, reload, stale, onError]);

  const review = useCallback(
    async (logId: string, verdict: Verdict, text: string) => {
      setSending((old) => new Set(old).add(logId));
      try {
        const updated = await reviewCorrection(logId, verdict, text, token);
        setAnswer(
          (old) => old && { ...old, items: old.items.map((item) => (item.log_id === updated.log_id ? updated : item)) },
        );
        onReviewed();
      } catch (caught) {
        onError(caught);
        if (caught instanceof ApiError && caught.status === 409) setStale((count) => count + 1);
      } finally {
        setSending((old) => {
          const next = new Set(old);
          next.delete(logId);
          return next;
        });
      }
    },
    [token, onError, onReviewed],
  );

  return (
    <section className="space-y-3" aria-labelledby="corrections-heading" data-testid="corrections-queue">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="corrections-heading" className="text-lg font-semibold">
          Corrections to review
        </h2>
        <label className="flex items-center gap-2 text-sm">
          <span className="font-medium text-slate-600">Status</span>
          <select
            data-testid="correction-status-filter"
            value={status}
            onChange={(event) => {
              setStatus(event.currentTarget.value as CorrectionStatus | "");
              setPage(1);
            }}
            className="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-slate-600 focus:outline-none"
          >
            {CORRECTION_STATUSES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            <option value="">all</option>
          </select>
        </label>
      </div>
      <CorrectionTable rows={answer?.items ?? []} token={token} sending={sending} onReview={review} />
      <Pager
        label="Pages of the corrections"
        page={page}
        pageSize={PAGE_SIZE}
        total={answer?.total ?? 0}
        loading={loading}
        onPage={setPage}
        testIds={{ range: "corrections-range", previous: "corrections-previous", next: "corrections-next" }}
      />
    </section>
  );
}
