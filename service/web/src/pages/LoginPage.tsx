/**
 * Log in or create an account. A new account is logged in straight away.
 */
import { useState, type FormEvent } from "react";
import { ApiError, login, register, type LoginAnswer } from "../api";
import { ErrorBanner } from "../components/ErrorBanner";

interface LoginPageProps {
  notice: string | null;
  onLoggedIn(answer: LoginAnswer, username: string): void;
}

type Mode = "login" | "register";

export function LoginPage({ notice, onLoggedIn }: LoginPageProps) {
  const [mode, setMode] = useState<Mode>("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "register") await register(username.trim(), password);
      const answer = await login(username.trim(), password);
      onLoggedIn(answer, username.trim());
    } catch (caught) {
      if (caught instanceof ApiError && caught.kind === "unauthorized") {
        setError("That username and password don't match an account.");
      } else {
        setError(caught instanceof Error ? caught.message : "Something went wrong. Please try again.");
      }
    } finally {
      setBusy(false);
    }
  };

  const registering = mode === "register";
  return (
    <div className="mx-auto w-full max-w-sm space-y-4">
      <ErrorBanner message={notice} tone="info" testId="notice" />
      <form onSubmit={submit} className="space-y-4 rounded-xl bg-white p-6 shadow-sm ring-1 ring-slate-200" noValidate>
        <h1 className="text-xl font-semibold">{registering ? "Create an account" : "Log in"}</h1>
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Username</span>
          <input
            data-testid="username"
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(event) => setUsername(event.currentTarget.value)}
            className="w-full rounded-md border border-slate-300 px-3 py-2 focus:border-slate-600 focus:outline-none"
          />
        </label>
        <label className="block text-sm">
          <span className="mb-1 block font-medium text-slate-700">Password</span>
          <input
            data-testid="password"
            name="password"
            type="password"
            autoComplete={registering ? "new-password" : "current-password"}
            required
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            className="w-full rounded-md border border-slate-300 px-3 py-2 focus:border-slate-600 focus:outline-none"
          />
        </label>
        <ErrorBanner message={error} testId="login-error" />
        <button
          type="submit"
          data-testid={registering ? "register" : "login"}
          disabled={busy || !username.trim() || !password}
          className="w-full rounded-md bg-slate-900 px-4 py-2 font-semibold text-white hover:bg-slate-700 disabled:opacity-50"
        >
          {busy ? "Please wait…" : registering ? "Create account" : "Log in"}
        </button>
        <p className="text-center text-sm text-slate-600">
          {registering ? "Already have an account? " : "New here? "}
          <button
            type="button"
            data-testid={registering ? "show-login" : "show-register"}
            onClick={() => {
              setMode(registering ? "login" : "register");
              setError(null);
            }}
            className="font-semibold text-sky-700 underline-offset-2 hover:underline"
          >
            {registering ? "Log in" : "Create an account"}
          </button>
        </p>
      </form>
    </div>
  );
}
