/**
 * The live dashboard's stream (`GET /admin/live`, Server-Sent Events, see service/api/live.py): its
 * figures, the single-use ticket that opens it (an EventSource cannot send the bearer token, and
 * the token never goes in a URL), and `useLiveFigures`, which keeps one stream open and opens a
 * new one, with a new ticket, whenever it ends or breaks.
 */
import { useEffect, useState } from "react";
import { ApiError, apiBase, call } from "./api";

export interface PendingCorrection {
  log_id: string;
  predicted_text: string | null;
  corrected_text: string;
  corrected_by: string;
  corrected_at: string;
}

/** What the stream sends: the last `window_minutes` minutes, the corrections queue, the async tasks. */
export interface LiveFigures {
  generated_at: string;
  /** "live": events through Redis move it; "polling": Redis is away, the service reads every few seconds. */
  mode: "live" | "polling";
  window_minutes: number;
  per_minute: { minute: string; count: number }[];
  predictions: number;
  rejected_share: number | null;
  low_confidence_share: number | null;
  low_confidence_threshold: number;
  latency_ms: Record<string, number | null>;
  corrections_pending: number;
  newest_corrections: PendingCorrection[];
  /** Null while the service cannot reach Redis, which holds the tasks. */
  tasks: { queued: number; running: number } | null;
}

/** "connecting" until the first figures arrive; "reconnecting" after the stream broke, until figures come again. */
export type LiveState = "connecting" | "live" | "polling" | "reconnecting";

const RECONNECT_MS = 1000;

/** A ticket that opens one stream within 30 s. */
function fetchTicket(token: string): Promise<{ ticket: string }> {
  return call<{ ticket: string }>("/admin/live/ticket", { method: "POST", token, context: "Opening the live figures" });
}

/**
 * The newest live figures and the stream's state. A refused ticket (the login expired, or the
 * account is not an admin) goes to `onError`; any other failure is retried every second.
 */
export function useLiveFigures(token: string, onError: (error: ApiError) => void) {
  const [figures, setFigures] = useState<LiveFigures | null>(null);
  const [state, setState] = useState<LiveState>("connecting");

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: number | undefined;
    let lastId = "";
    let stopped = false;

    const reconnect = () => {
      source?.close();
      source = null;
      if (stopped) return;
      setState("reconnecting");
      retry = window.setTimeout(open, RECONNECT_MS);
    };

    async function open() {
      let ticket: string;
      try {
        ticket = (await fetchTicket(token)).ticket;
      } catch (caught) {
        if (caught instanceof ApiError && (caught.kind === "unauthorized" || caught.kind === "forbidden")) {
          onError(caught);
          return;
        }
        reconnect();
        return;
      }
      if (stopped) return;
      const query = new URLSearchParams({ ticket });
      if (lastId) query.set("last_event_id", lastId);
      source = new EventSource(`${apiBase()}/admin/live?${query}`);
      source.addEventListener("figures", (event) => {
        const message = event as MessageEvent<string>;
        lastId = message.lastEventId || lastId;
        const next = JSON.parse(message.data) as LiveFigures;
        setFigures(next);
        setState(next.mode);
      });
      source.onerror = reconnect; // a spent ticket cannot reopen it: the browser's own retry would fail
    }

    void open();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      source?.close();
    };
  }, [token, onError]);

  return { figures, state };
}
