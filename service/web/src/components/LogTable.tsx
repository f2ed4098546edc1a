/**
 * The prediction log as a sortable table, one row per prediction or rejected input; a row whose
 * image was kept shows it on demand, and a corrected reading shows what the person typed.
 */
import { useState } from "react";
import type { LogRow, SortKey } from "../adminApi";
import { confidenceTone, dateTime, kilobytes, millis, percent } from "../format";
import { ReadingText } from "./ReadingText";
import { StoredImage } from "./StoredImage";

interface LogTableProps {
  rows: LogRow[];
  token: string;
  sort: SortKey;
  descending: boolean;
  onSort(key: SortKey): void;
}

const COLUMNS: { key: SortKey | null; label: string; align?: string }[] = [
  { key: "created_at", label: "Time" },
  { key: "username", label: "User" },
  { key: "text", label: "Read as" },
  { key: null, label: "Value", align: "text-right" },
  { key: "confidence", label: "Confidence", align: "text-right" },
  { key: "model_version", label: "Model" },
  { key: "latency_ms", label: "Latency", align: "text-right" },
  { key: null, label: "Image" },
  { key: null, label: "Outcome" },
];

/** The image's size and, when it was kept, a button that shows it (fetched only when asked for). */
function ImageCell({ row, token }: { row: LogRow; token: string }) {
  const [open, setOpen] = useState(false);
  const size = row.image_width && row.image_height ? `${row.image_width}×${row.image_height}` : "–";
  return (
    <td
      className="px-3 py-2 whitespace-nowrap text-xs text-slate-600"
      title={[row.image_bytes ? kilobytes(row.image_bytes) : null, row.image_sha256].filter(Boolean).join(" · ")}
    >
      <span className="flex items-center gap-2">
        {size}
        {row.image_url && (
          <button
            type="button"
            data-testid="show-log-image"
            aria-expanded={open}
            onClick={() => setOpen(!open)}
            className="rounded border border-slate-300 px-1.5 py-0.5 font-medium text-slate-700 hover:bg-slate-100"
          >
            {open ? "Hide" : "Show"}
          </button>
        )}
      </span>
      {open && row.image_url && (
        <span className="mt-1 block">
          <StoredImage url={row.image_url} token={token} alt={`The image read as ${row.text ?? "nothing"}`} />
        </span>
      )}
    </td>
  );
}

export function LogTable({ rows, token, sort, descending, onSort }: LogTableProps) {
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
                  <span className="font-mono font-semibold">
                    <ReadingText text={row.text} />
                  </span>
                ) : (
                  <span className="block max-w-56 truncate text-xs text-rose-700" title={row.error ?? undefined}>
                    {row.error ?? "–"}
                  </span>
                )}
                {row.corrected_text && (
                  <span
                    data-testid="log-correction"
                    className="block text-xs text-slate-600"
                    title={`Corrected by a person; ${row.correction_status ?? "pending"}`}
                  >
                    →{" "}
                    <span className="font-mono font-semibold text-emerald-800">
                      <ReadingText text={row.corrected_text} />
                    </span>
                    {` (${row.correction_status ?? "pending"})`}
                  </span>
                )}
              </td>
              <td className="px-3 py-2 text-right font-mono whitespace-nowrap" data-testid="log-value">
                {row.value ?? <span className="text-slate-400">–</span>}
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
              <ImageCell row={row} token={token} />
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
