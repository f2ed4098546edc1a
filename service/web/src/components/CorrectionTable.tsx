/**
 * The corrections as a table: the stored image, what the model read and what the person typed,
 * who and when, the model version, the review status and the buttons to accept or reject.
 */
import type { CorrectionItem, CorrectionStatus } from "../adminApi";
import { dateTime, percent } from "../format";
import { ReadingText } from "./ReadingText";
import { StoredImage } from "./StoredImage";

export type Verdict = "accept" | "reject";

interface CorrectionTableProps {
  rows: CorrectionItem[];
  token: string;
  /** Log ids whose review is being sent. */
  sending: ReadonlySet<string>;
  /** `text`: the corrected text the admin saw and decides on. */
  onReview(logId: string, verdict: Verdict, text: string): void;
}

const HEADINGS = ["Image", "Read as", "Corrected to", "By", "When", "Model", "Status", "Review"];

const STATUS_TONE: Record<CorrectionStatus, string> = {
  pending: "bg-amber-100 text-amber-900",
  accepted: "bg-emerald-100 text-emerald-800",
  rejected: "bg-rose-100 text-rose-800",
};

const REVIEW_BUTTON =
  "rounded-md border px-2.5 py-1 text-xs font-semibold disabled:cursor-not-allowed disabled:opacity-40";

export function CorrectionTable({ rows, token, sending, onReview }: CorrectionTableProps) {
  return (
    <div className="overflow-x-auto rounded-lg ring-1 ring-slate-200">
      <table className="min-w-full divide-y divide-slate-200 bg-white text-sm" data-testid="correction-table">
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
          <tr>
            {HEADINGS.map((heading) => (
              <th key={heading} scope="col" className="px-3 py-2 font-semibold whitespace-nowrap">
                {heading}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((row) => {
            const busy = sending.has(row.log_id);
            return (
              <tr key={row.log_id} data-testid="correction-row" data-log-id={row.log_id} className="align-middle">
                <td className="px-3 py-2">
                  <StoredImage
                    url={row.image_url}
                    token={token}
                    alt={`The image read as ${row.predicted_text ?? "nothing"}, corrected to ${row.corrected_text}`}
                  />
                </td>
                <td className="px-3 py-2 whitespace-nowrap" data-testid="correction-predicted">
                  <span className="font-mono font-semibold">
                    {row.predicted_text !== null ? <ReadingText text={row.predicted_text} /> : "–"}
                  </span>
                  <span className="ml-1.5 text-xs text-slate-500 tabular-nums">{percent(row.confidence)}</span>
                </td>
                <td className="px-3 py-2 font-mono font-semibold text-emerald-800" data-testid="correction-text">
                  <ReadingText text={row.corrected_text} />
                </td>
                <td className="px-3 py-2 whitespace-nowrap">
                  {row.corrected_by}
                  {row.username && row.username !== row.corrected_by && (
                    <span className="block text-xs text-slate-500">for {row.username}</span>
                  )}
                </td>
                <td className="px-3 py-2 whitespace-nowrap text-slate-600">{dateTime(row.corrected_at)}</td>
                <td
                  className="max-w-40 truncate px-3 py-2 font-mono text-xs whitespace-nowrap"
                  title={row.model_version}
                >
                  {row.model_version}
                </td>
                <td className="px-3 py-2 whitespace-nowrap">
                  <span
                    data-testid="correction-status"
                    className={`rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_TONE[row.status] ?? ""}`}
                    title={row.reviewed_by ? `by ${row.reviewed_by}, ${dateTime(row.reviewed_at)}` : undefined}
                  >
                    {row.status}
                  </span>
                </td>
                <td className="px-3 py-2 whitespace-nowrap">
                  <div className="flex gap-1.5">
                    <button
                      type="button"
                      data-testid="accept-correction"
                      disabled={busy || row.status === "accepted"}
                      onClick={() => onReview(row.log_id, "accept", row.corrected_text)}
                      aria-label={`Accept ${row.corrected_text}`}
                      className={`${REVIEW_BUTTON} border-emerald-300 bg-emerald-50 text-emerald-900 hover:bg-emerald-100`}
                    >
                      Accept
                    </button>
                    <button
                      type="button"
                      data-testid="reject-correction"
                      disabled={busy || row.status === "rejected"}
                      onClick={() => onReview(row.log_id, "reject", row.corrected_text)}
                      aria-label={`Reject ${row.corrected_text}`}
                      className={`${REVIEW_BUTTON} border-rose-300 bg-rose-50 text-rose-900 hover:bg-rose-100`}
                    >
                      Reject
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
          {rows.length === 0 && (
            <tr>
              <td colSpan={HEADINGS.length} className="px-3 py-6 text-center text-slate-500">
                No corrections here.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
