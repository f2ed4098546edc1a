/**
 * The shell: who is logged in, which page is shown (hash routes `#/` and `#/admin`), and what
 * happens when the login runs out (back to the login form with a message).
 */
import { useCallback, useEffect, useState } from "react";
import { EXPIRED_MESSAGE, type ApiError, type LoginAnswer } from "./api";
import { untilText } from "./format";
import { DashboardPage } from "./pages/DashboardPage";
import { LoginPage } from "./pages/LoginPage";
import { RecognizePage } from "./pages/RecognizePage";
import { clearSession, isExpired, loadSession, saveSession, sessionFromToken, type Session } from "./session";

type Route = "recognize" | "admin";

function routeFromHash(): Route {
  return window.location.hash.startsWith("#/admin") ? "admin" : "recognize";
}

function initialSession(): { session: Session | null; notice: string | null } {
  const saved = loadSession();
  if (saved && isExpired(saved)) {
    clearSession();
    return { session: null, notice: EXPIRED_MESSAGE };
  }
  return { session: saved, notice: null };
}

export function App() {
  const [{ session, notice }, setState] = useState(initialSession);
  const [route, setRoute] = useState<Route>(routeFromHash);

  useEffect(() => {
    const onHash = () => setRoute(routeFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const logOut = useCallback((message: string | null) => {
    clearSession();
    setState({ session: null, notice: message });
  }, []);

  useEffect(() => {
    if (!session?.expiresAt) return;
    const wait = Math.max(0, session.expiresAt - Date.now());
    const timer = window.setTimeout(() => logOut(EXPIRED_MESSAGE), Math.min(wait, 2_147_000_000));
    return () => window.clearTimeout(timer);
  }, [session, logOut]);

  const onLoggedIn = useCallback((answer: LoginAnswer, username: string) => {
    const next = sessionFromToken(answer.access_token, username) ?? {
      token: answer.access_token,
      username,
      role: "user" as const,
      expiresAt: answer.expires_in ? Date.now() + answer.expires_in * 1000 : null,
    };
    saveSession(next);
    setState({ session: next, notice: null });
  }, []);

  const onAuthError = useCallback((error: ApiError) => logOut(error.message), [logOut]);

  return (
    <div className="flex min-h-screen flex-col">
      <header className="bg-slate-900 text-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <a href="#/" className="flex items-center gap-2 text-lg font-bold tracking-tight">
            <img src="./favicon.svg" alt="" className="h-7 w-7" />
            Digitify
          </a>
          {session && (
            <nav className="flex gap-1 text-sm" aria-label="Pages">
              <NavLink href="#/" active={route === "recognize"} testId="nav-recognize">
                Read a number
              </NavLink>
              {session.role === "admin" && (
                <NavLink href="#/admin" active={route === "admin"} testId="nav-admin">
                  Dashboard
                </NavLink>
              )}
            </nav>
          )}
          {session && (
            <div className="ml-auto flex items-center gap-3 text-sm">
              <span
                data-testid="whoami"
                title={session.expiresAt ? `Login ends ${untilText(session.expiresAt)}` : undefined}
              >
                {session.username}
                <span className="ml-2 rounded bg-white/15 px-1.5 py-0.5 text-xs uppercase" data-testid="role">
                  {session.role}
                </span>
              </span>
              <button
                type="button"
                data-testid="logout"
                onClick={() => logOut(null)}
                className="rounded-md border border-white/30 px-2.5 py-1 hover:bg-white/10"
              >
                Log out
              </button>
            </div>
          )}
        </div>
      </header>
      <main className="mx-auto w-full max-w-6xl flex-1 px-4 py-6">
        {!session ? (
          <LoginPage notice={notice} onLoggedIn={onLoggedIn} />
        ) : route === "admin" ? (
          <DashboardPage token={session.token} username={session.username} onAuthError={onAuthError} />
        ) : (
          <RecognizePage token={session.token} onAuthError={onAuthError} />
        )}
      </main>
      <footer className="py-4 text-center text-xs text-slate-500">Digitify reads handwritten numbers.</footer>
    </div>
  );
}

interface NavLinkProps {
  href: string;
  active: boolean;
  testId: string;
  children: React.ReactNode;
}

function NavLink({ href, active, testId, children }: NavLinkProps) {
  return (
    <a
      href={href}
      data-testid={testId}
      aria-current={active ? "page" : undefined}
      className={`rounded-md px-3 py-1.5 ${active ? "bg-white/15 font-semibold" : "text-slate-300 hover:bg-white/10 hover:text-white"}`}
    >
      {children}
    </a>
  );
}
