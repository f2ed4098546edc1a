/**
 * The prediction log as a sortable table, one row per prediction or rejected input.
 */
import type { LogRow, SortKey } from "../adminApi";
import { confidenceTone, dateTime, kilobytes, millis, percent } from "../format";

interface LogTableProps {
  rows: LogRow[];
  sort: SortKey;
  descending: boolean;
  onSort(key: SortKey): void;
}

const COLUMNS: { key: SortKey | null; label: string; align?: string }[] = [
  { key: "created_at", label: "Time" },
  { key: "username", label: "User" },
  { key: "text", label: "Read as" },
  { key: "confidence", label: "Confidence", align: "text-right" },
  { key: "model_version", label: "Model" },
  { key: "latency_ms", label: "Latency", align: "text-right" },
  { key: null, label: "Image" },
  { key: null, label: "Outcome" },
];

export function LogTable({ rows, sort, descending, onSort }: LogTableProps) {
  return (
    <div className="overflow-x-auto rounded-lg ring-1 ring-slate-200">
      <table className="min-w-full divide-y divide-slate-200 bg-white text-sm" data-testid="log-table">
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500">
          <tr>
            {COLUMNS.map((column) => (
              <th
                key={column.label}
                scope="col"
                className={`px-3 py-2 font-semibold whitespace-nowrap ${column.align ?? ""}`}
                aria-sort={column.key === sort ? (descending ? "descending" : "ascending") : undefined}
              >
                {column.key ? (
                  <button type="button" onClick={() => onSort(column.key!)} className="uppercase hover:text-slate-900">
                    {column.label}
                    {column.key === sort ? (descending ? " ↓" : " ↑") : ""}
                  </button>
                ) : (
                  column.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {rows.map((row) => (
            <tr key={row.id} data-testid="log-row" data-log-id={row.id} className="hover:bg-slate-50">
              <td className="px-3 py-2 whitespace-nowrap text-slate-600">{dateTime(row.created_at)}</td>
              <td className="px-3 py-2 whitespace-nowrap">{row.username ?? "–"}</td>
              <td className="px-3 py-2" data-testid="log-text">
                {row.text !== null ? (
                  <span className="font-mono font-semibold">{row.text}</span>
                ) : (
                  <span className="block max-w-56 truncate text-xs text-rose-700" title={row.error ?? undefined}>
                    {row.error ?? "–"}
                  </span>
                )}
              </td>
              <td className="px-3 py-2 text-right whitespace-nowrap tabular-nums">
                {row.confidence !== null && (
                  <span
                    className={`mr-1.5 inline-block h-2 w-2 rounded-full ${confidenceTone(row.confidence)}`}
                    aria-hidden="true"
                  />
                )}
                {percent(row.confidence)}
              </td>
              <td className="max-w-40 truncate px-3 py-2 font-mono text-xs whitespace-nowrap" title={row.model_version}>
                {row.model_version}
              </td>
              <td className="px-3 py-2 text-right whitespace-nowrap tabular-nums">{millis(row.latency_ms)}</td>
              <td
                className="px-3 py-2 whitespace-nowrap text-xs text-slate-600"
                title={[row.image_bytes ? kilobytes(row.image_bytes) : null, row.image_sha256]
                  .filter(Boolean)
                  .join(" · ")}
              >
                {row.image_width && row.image_height ? `${row.image_width}×${row.image_height}` : "–"}
              </td>
              <td className="px-3 py-2 whitespace-nowrap">
                <span
                  className={`rounded px-1.5 py-0.5 text-xs font-medium ${
                    row.outcome === "ok" ? "bg-emerald-100 text-emerald-800" : "bg-rose-100 text-rose-800"
                  }`}
                  title={row.error ?? undefined}
                >
                  {row.outcome}
                </span>
                <span className="ml-1.5 font-mono text-xs text-slate-400">{row.endpoint}</span>
              </td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={COLUMNS.length} className="px-3 py-6 text-center text-slate-500">
                No predictions match these filters.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
