/** A message box for errors and notices, read out by screen readers and scrolled into view. */
import { useEffect, useRef } from "react";

interface ErrorBannerProps {
  message: string | null;
  tone?: "error" | "info";
  onDismiss?(): void;
  testId?: string;
}

export function ErrorBanner({ message, tone = "error", onDismiss, testId = "error" }: ErrorBannerProps) {
  const box = useRef<HTMLDivElement>(null);
  // On a phone the message may appear below the fold: bring it into view.
  useEffect(() => {
    box.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [message]);
  if (!message) return null;
  const colours =
    tone === "error" ? "border-rose-300 bg-rose-50 text-rose-900" : "border-sky-300 bg-sky-50 text-sky-900";
  return (
    <div
      ref={box}
      role={tone === "error" ? "alert" : "status"}
      data-testid={testId}
      className={`flex items-start gap-3 rounded-lg border px-4 py-3 text-sm ${colours}`}
    >
      <p className="flex-1">{message}</p>
      {onDismiss && (
        <button
          type="button"
          onClick={onDismiss}
          className="rounded px-1 font-semibold opacity-70 hover:opacity-100"
          aria-label="Dismiss message"
        >
          ×
        </button>
      )}
    </div>
  );
}
