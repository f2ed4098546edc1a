/**
 * The admin routes (`GET /admin/logs`, `GET /admin/stats`, the corrections queue, the stored
 * images and the accounts, see service/api/admin.py, service/api/corrections.py and
 * service/api/users.py) and the shapes the dashboard reads from them.
 */
import { call, fetchBlob } from "./api";

export interface LogFilters {
  user: string;
  text: string;
  contains: string;
  minConfidence: string;
  maxConfidence: string;
  /** Inclusive bounds on a row's value, as decimal strings; rows without a value never match them. */
  minValue: string;
  maxValue: string;
  since: string;
  until: string;
  modelVersion: string;
  outcome: string;
}

export const EMPTY_FILTERS: LogFilters = {
  user: "",
  text: "",
  contains: "",
  minConfidence: "",
  maxConfidence: "",
  minValue: "",
  maxValue: "",
  since: "",
  until: "",
  modelVersion: "",
  outcome: "",
};

/** The outcomes the service records (service/db/tables.py). */
export const OUTCOMES = ["ok", "rejected"];

export interface LogRow {
  id: string;
  created_at: string;
  username: string | null;
  endpoint: string;
  batch_id: string | null;
  model_version: string;
  outcome: string;
  error: string | null;
  text: string | null;
  /** The number the text means, as a normalized decimal string; null when it means none. */
  value: string | null;
  confidence: number | null;
  char_confidences: number[] | null;
  latency_ms: number;
  image_width: number | null;
  image_height: number | null;
  image_bytes: number | null;
  image_sha256: string | null;
  /** Where the stored image is ("/admin/images/<sha>"), or null when it was not kept. */
  image_url?: string | null;
  corrected_text?: string | null;
  correction_status?: CorrectionStatus | null;
}

export interface LogPage {
  total: number;
  page: number;
  page_size: number;
  pages: number;
  items: LogRow[];
}

export interface Count {
  key: string | null;
  count: number;
}

export interface DayStats {
  day: string;
  count: number;
  /** Mean confidence of the day's answered predictions, when the service reports it. */
  mean_confidence?: number | null;
  /** Share of the day's answered predictions under the low-confidence threshold, when reported. */
  low_confidence_rate?: number | null;
}

export interface StatsAnswer {
  total: number;
  by_outcome: Count[];
  per_day: DayStats[];
  confidence_histogram: { low: number; high: number; count: number }[];
  low_confidence_threshold: number;
  low_confidence_rate: number | null;
  latency_ms: Record<string, number | null>;
  per_user: Count[];
  per_model_version: Count[];
  per_endpoint: Count[];
  spooled_rows?: number;
  corrections?: CorrectionStats;
}

/** How many of the answered predictions people corrected (corrections not rejected). */
export interface CorrectionShare {
  predictions: number;
  corrected: number;
  share: number;
}

export interface CorrectionStats {
  total: number;
  pending: number;
  accepted: number;
  rejected: number;
  by_model_version: (CorrectionShare & { model_version: string })[];
  by_day: (CorrectionShare & { day: string })[];
}

export type CorrectionStatus = "pending" | "accepted" | "rejected";

export const CORRECTION_STATUSES: CorrectionStatus[] = ["pending", "accepted", "rejected"];

/** One corrected prediction: what the model read, what the person typed, and its review. */
export interface CorrectionItem {
  log_id: string;
  predicted_text: string | null;
  corrected_text: string;
  confidence: number | null;
  username: string | null;
  corrected_by: string;
  corrected_at: string;
  status: CorrectionStatus;
  reviewed_by: string | null;
  reviewed_at: string | null;
  model_version: string;
  predicted_at: string;
  endpoint: string;
  image_sha256: string | null;
  image_url: string | null;
}

export interface CorrectionPage {
  total: number;
  page: number;
  page_size: number;
  pages: number;
  items: CorrectionItem[];
}

export interface CorrectionQuery {
  /** One status, or "" for all. */
  status: CorrectionStatus | "";
  page: number;
  pageSize: number;
}

export type SortKey = "created_at" | "confidence" | "latency_ms" | "text" | "username" | "model_version";

export interface LogQuery {
  filters: LogFilters;
  sort: SortKey;
  descending: boolean;
  page: number;
  pageSize: number;
}

/** The start of a local calendar day (yyyy-mm-dd) as an ISO instant; `endOfDay` gives the next midnight. */
function dayBound(day: string, endOfDay: boolean): string | undefined {
  if (!day) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  if (endOfDay) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

/** The filters as the query parameters of both admin routes. */
function filterParams(filters: LogFilters): Record<string, string | undefined> {
  return {
    user: filters.user.trim() || undefined,
    text: filters.text.trim() || undefined,
    contains: filters.contains || undefined,
    min_confidence: filters.minConfidence || undefined,
    max_confidence: filters.maxConfidence || undefined,
    min_value: filters.minValue.trim() || undefined,
    max_value: filters.maxValue.trim() || undefined,
    since: dayBound(filters.since, false),
    until: dayBound(filters.until, true),
    model_version: filters.modelVersion.trim() || undefined,
    outcome: filters.outcome || undefined,
  };
}

/** One page of prediction log rows matching the filters, with the total count. */
export function fetchLogs(query: LogQuery, token: string): Promise<LogPage> {
  return call<LogPage>("/admin/logs", {
    token,
    context: "Loading the prediction log",
    query: {
      ...filterParams(query.filters),
      sort: query.sort,
      order: query.descending ? "desc" : "asc",
      page: query.page,
      page_size: query.pageSize,
    },
  });
}

/** Analytics over the log rows matching the filters. */
export function fetchStats(filters: LogFilters, token: string): Promise<StatsAnswer> {
  return call<StatsAnswer>("/admin/stats", { token, context: "Loading the analytics", query: filterParams(filters) });
}

export interface VersionStats {
  version: string;
  stats: StatsAnswer;
}

/** The same analytics for each of the (at most `limit`) busiest model versions, to compare them. */
export async function fetchVersionStats(
  filters: LogFilters,
  versions: string[],
  token: string,
  limit = 6,
): Promise<VersionStats[]> {
  const chosen = versions.slice(0, limit);
  const answers = await Promise.all(chosen.map((version) => fetchStats({ ...filters, modelVersion: version }, token)));
  return chosen.map((version, index) => ({ version, stats: answers[index] }));
}

/** The count for `key` in a grouped count list (0 when absent). */
export function countOf(counts: Count[], key: string): number {
  return counts.find((item) => item.key === key)?.count ?? 0;
}

/** One page of corrections, newest first. */
export function fetchCorrections(query: CorrectionQuery, token: string): Promise<CorrectionPage> {
  return call<CorrectionPage>("/admin/corrections", {
    token,
    context: "Loading the corrections",
    query: { status: query.status || undefined, order: "desc", page: query.page, page_size: query.pageSize },
  });
}

/** Accept a correction (its image and text go into the next training data) or reject it. */
export function reviewCorrection(
  logId: string,
  verdict: "accept" | "reject",
  seenText: string,
  token: string,
): Promise<CorrectionItem> {
  return call<CorrectionItem>(`/admin/corrections/${encodeURIComponent(logId)}/${verdict}`, {
    method: "POST",
    token,
    json: { text: seenText }, // what the admin saw: a correction changed since answers 409
    context: verdict === "accept" ? "Accepting the correction" : "Rejecting the correction",
  });
}

/** A stored image (`image_url` of a log row or a correction), fetched with the admin's token. */
export function fetchStoredImage(url: string, token: string): Promise<Blob> {
  return fetchBlob(url, token, "Loading the image");
}

/** An account as admins see it (`GET /admin/users`). */
export interface UserItem {
  username: string;
  role: string;
  is_active: boolean;
  created_at: string | null;
}

export function fetchUsers(token: string): Promise<{ items: UserItem[] }> {
  return call<{ items: UserItem[] }>("/admin/users", { token, context: "Loading the accounts" });
}

/** Disable an account (its tokens stop working at once) or enable it again. */
export function setUserActive(username: string, active: boolean, token: string): Promise<UserItem> {
  return call<UserItem>(`/admin/users/${encodeURIComponent(username)}/${active ? "enable" : "disable"}`, {
    method: "POST",
    token,
    context: active ? "Enabling the account" : "Disabling the account",
  });
}
