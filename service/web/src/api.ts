/**
 * The Digitify service's HTTP API as the page uses it, with errors a person can read.
 *
 * Every call goes to the same origin that served the page (the BentoML service), so the
 * page needs no network beyond it. Failures become an ApiError whose `kind` tells the page
 * what to do (expired login: back to the login form; forbidden: "admins only"; ...).
 */

export type ErrorKind = "unauthorized" | "forbidden" | "bad-input" | "not-found" | "server" | "offline";

/** A failed call, with a message meant for the person using the page. */
export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;

  constructor(kind: ErrorKind, status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
  }
}

export interface LoginAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
}

/** How a "." or "," in a reading is taken for its value (the prediction routes' `decimal_separator`). */
export type SeparatorRule = "auto" | "point" | "comma";

export interface PredictionResult {
  text: string;
  /** The number the text means, as a normalized decimal string ("-12.5", "1250"); null when it means none. */
  value: string | null;
  /** Why the text is not a well-formed number, when `value` is null. */
  value_error: string | null;
  /** Which mark the service took as the decimal separator; null when the text has neither. */
  decimal_separator: "point" | "comma" | null;
  confidence: number;
  char_confidences: number[];
  model_version: string;
  log_id: number | string | null;
}

/** The service's record of a correction (the fields the page reads). */
export interface CorrectionAnswer {
  log_id: string;
  corrected_text: string;
  status: string;
}

const OFFLINE_MESSAGE =
  "Can't reach the Digitify service. Check that it is running and your connection, then try again.";

/** Pull the service's own explanation out of an error body (FastAPI `detail`, BentoML `error`, ...). */
function explain(body: unknown): string | null {
  if (typeof body === "string") return body.trim() || null;
  if (!body || typeof body !== "object") return null;
  const record = body as Record<string, unknown>;
  for (const key of ["error", "detail", "message", "msg"]) {
    const value = record[key];
    if (typeof value === "string" && value.trim()) return value.trim();
    if (Array.isArray(value) && value.length) {
      return value
        .map((item) =>
          item && typeof item === "object" ? String((item as Record<string, unknown>).msg ?? "") : String(item),
        )
        .filter(Boolean)
        .join("; ");
    }
    if (value && typeof value === "object") {
      const nested = explain(value);
      if (nested) return nested;
    }
  }
  return null;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** "no number found: ..." -> "No number found: ..." */
function sentence(text: string | null): string | null {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : null;
}

export const EXPIRED_MESSAGE = "Your login has expired or is no longer valid. Please log in again.";

function errorFor(status: number, body: unknown, context: string): ApiError {
  const said = sentence(explain(body));
  if (status === 401) return new ApiError("unauthorized", status, EXPIRED_MESSAGE);
  if (status === 403) {
    return new ApiError("forbidden", status, said ?? "You are not allowed to do that.");
  }
  if (status === 404) return new ApiError("not-found", status, said ?? `${context}: not found.`);
  if (status === 413) return new ApiError("bad-input", status, said ?? "That file is too large.");
  if (status >= 400 && status < 500) return new ApiError("bad-input", status, said ?? `${context} was refused.`);
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError(
      "offline",
      status,
      "The Digitify service is starting or unavailable. Please try again in a moment.",
    );
  }
  return new ApiError("server", status, `Something went wrong on the service (${status}). Please try again.`);
}

interface CallOptions {
  method?: string;
  token?: string | null;
  json?: unknown;
  form?: FormData;
  query?: Record<string, string | number | undefined | null>;
  context: string;
}

/** Call one route and return its parsed JSON body, or throw an ApiError. */
export async function call<T>(path: string, options: CallOptions): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const query = params.toString();
  const url = `${apiBase()}${path}${query ? `?${query}` : ""}`;
  let response: Response;
  try {
    response = await fetch(url, { method: options.method ?? (body ? "POST" : "GET"), headers, body });
  } catch {
    throw new ApiError("offline", 0, OFFLINE_MESSAGE);
  }
  const parsed = await readBody(response);
  if (!response.ok) throw errorFor(response.status, parsed, options.context);
  return parsed as T;
}

/**
 * Fetch one binary resource (e.g. a stored image) with the bearer token, which an `<img src>`
 * cannot send; the page shows it through a `blob:` URL.
 */
export async function fetchBlob(path: string, token: string, context: string): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(`${apiBase()}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError("offline", 0, OFFLINE_MESSAGE);
  }
  if (!response.ok) throw errorFor(response.status, await readBody(response), context);
  return response.blob();
}

/** The service's root: the folder the page was served from (so a mount under a prefix works). */
export function apiBase(): string {
  const path = window.location.pathname.replace(/\/[^/]*$/, "");
  return `${window.location.origin}${path}`;
}

/** Create an account; the service decides the role (new accounts are plain users). */
export function register(username: string, password: string): Promise<unknown> {
  return call("/auth/register", { json: { username, password }, context: "Creating the account" });
}

/** Log in and get a bearer token. */
export function login(username: string, password: string): Promise<LoginAnswer> {
  return call<LoginAnswer>("/auth/login", { json: { username, password }, context: "Logging in" });
}

/**
 * Read the number in one image (a canvas PNG, an uploaded or pasted file). Without `rule` the
 * service's own setting (DIGITIFY_DECIMAL_SEPARATOR) decides how a separator is read.
 */
export async function predict(image: Blob, token: string, rule?: SeparatorRule): Promise<PredictionResult> {
  const form = new FormData();
  form.append("image", image, image instanceof File ? image.name : "drawing.png");
  return call<PredictionResult>("/predict", {
    form,
    token,
    query: { decimal_separator: rule },
    context: "Reading the number",
  });
}

/** Tell the service what a reading should have been; it keeps the correction for an admin to review. */
export function submitCorrection(logId: string, text: string, token: string): Promise<CorrectionAnswer> {
  return call<CorrectionAnswer>("/corrections", {
    json: { log_id: logId, text },
    token,
    context: "Saving the correction",
  });
}

let knownRoutes: Promise<Set<string>> | null = null;

/** The routes the service's OpenAPI document lists (fetched once; empty when it cannot be read). */
function serviceRoutes(): Promise<Set<string>> {
  knownRoutes ??= fetch(`${apiBase()}/docs.json`)
    .then((response) => (response.ok ? response.json() : {}))
    .then((doc: { paths?: Record<string, unknown> }) => new Set(Object.keys(doc?.paths ?? {})))
    .catch(() => new Set<string>());
  return knownRoutes;
}

/**
 * The normalized image the model saw for `image`, as a data URL; null when the service has no
 * `/preview` route or cannot normalize the image (the prediction then says why).
 */
export async function preview(image: Blob, token: string): Promise<string | null> {
  if (!(await serviceRoutes()).has("/preview")) return null;
  const form = new FormData();
  form.append("image", image, image instanceof File ? image.name : "drawing.png");
  try {
    const answer = await call<{ image?: string }>("/preview", { form, token, context: "Preparing the preview" });
    return typeof answer?.image === "string" ? answer.image : null;
  } catch {
    return null;
  }
}
