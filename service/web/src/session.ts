/**
 * The login session kept in the browser: the bearer token and what its payload says.
 *
 * The JWT payload is decoded here only to show the role and the expiry and to hide the
 * admin tab from plain users; the service checks the signature and the role on every call.
 */

export type Role = "admin" | "user";

export interface Session {
  token: string;
  username: string;
  role: Role;
  /** Expiry as milliseconds since the epoch, or null when the token carries no `exp`. */
  expiresAt: number | null;
}

const STORAGE_KEY = "digitify.token";

/** Decode the payload (middle part) of a JWT without checking it; null when it is not a JWT. */
export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return payload && typeof payload === "object" ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Build a session from a token, or null when the token cannot be read. */
export function sessionFromToken(token: string, fallbackUsername = ""): Session | null {
  const payload = decodeJwtPayload(token);
  if (!payload) return null;
  const username = String(payload.username ?? payload.sub ?? fallbackUsername);
  const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
  const isAdmin = payload.role === "admin" || roles.includes("admin") || payload.is_admin === true;
  const exp = typeof payload.exp === "number" ? payload.exp * 1000 : null;
  return { token, username, role: isAdmin ? "admin" : "user", expiresAt: exp };
}

/** True when the session's token has passed its expiry (with a small margin for clock skew). */
export function isExpired(session: Session, now = Date.now()): boolean {
  return session.expiresAt !== null && session.expiresAt <= now + 5_000;
}

/** The session saved by an earlier visit, or null. */
export function loadSession(): Session | null {
  try {
    const token = localStorage.getItem(STORAGE_KEY);
    return token ? sessionFromToken(token) : null;
  } catch {
    return null;
  }
}

/** Remember the session's token across page loads. */
export function saveSession(session: Session): void {
  try {
    localStorage.setItem(STORAGE_KEY, session.token);
  } catch {
    /* storage may be disabled (private mode): the session then lasts for this page only */
  }
}

/** Forget the saved token. */
export function clearSession(): void {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing saved */
  }
}
