/** Small formatting helpers shared by the pages. */

/** 0.873 -> "87%"; values under 10% keep one decimal, and tiny ones read "<0.1%". */
export function percent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const scaled = value * 100;
  if (scaled > 0 && scaled < 0.1) return "<0.1%";
  return `${scaled < 10 && scaled > 0 ? scaled.toFixed(1) : Math.round(scaled)}%`;
}

/** Milliseconds with a sensible precision. */
export function millis(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** An ISO time as a short local date and time. */
export function dateTime(value: string | null | undefined): string {
  if (!value) return "–";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/** How long until `at` (ms since epoch), as "in 23 min" / "in 2 h". */
export function untilText(at: number, now = Date.now()): string {
  const minutes = Math.round((at - now) / 60_000);
  if (minutes < 1) return "in under a minute";
  if (minutes < 90) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} days`;
}

/** Tailwind colour classes for a confidence: green when sure, amber when unsure, red when doubtful. */
export function confidenceTone(value: number): string {
  if (value >= 0.8) return "bg-emerald-500";
  if (value >= 0.5) return "bg-amber-400";
  return "bg-rose-500";
}

/** A byte count as "12.3 kB". */
export function kilobytes(bytes: number): string {
  return bytes < 1000 ? `${bytes} B` : `${(bytes / 1000).toFixed(1)} kB`;
}
