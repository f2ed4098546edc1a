/**
 * The live figures at the top of the dashboard: they move by themselves as predictions, corrections
 * and async tasks happen on any replica of the service (`useLiveFigures`), with an indicator that
 * says whether the stream is live, polling (the service cannot reach Redis) or reconnecting.
 */
import type { ApiError } from "../api";
import { Sparkbars } from "../charts/Sparkbars";
import { dateTime, millis, percent } from "../format";
import { type LiveState, useLiveFigures } from "../liveApi";
import { Card } from "./Card";
import { Headline } from "./Headline";
import { ReadingText } from "./ReadingText";

interface LivePanelProps {
  token: string;
  onError(error: ApiError): void;
}

const INDICATOR: Record<LiveState, { text: string; tone: string }> = {
  connecting: { text: "connecting", tone: "bg-slate-400" },
  live: { text: "live", tone: "bg-emerald-500" },
  polling: { text: "live (polling: no Redis)", tone: "bg-amber-400" },
  reconnecting: { text: "reconnecting", tone: "bg-rose-500" },
};

export function LivePanel({ token, onError }: LivePanelProps) {
  const { figures, state } = useLiveFigures(token, onError);
  const indicator = INDICATOR[state];
  const counts = figures?.per_minute.map((minute) => minute.count) ?? [];
  const perMinute = figures ? figures.predictions / figures.window_minutes : null;
  return (
    <section className="space-y-3" aria-label="Live figures" data-testid="live">
      <div className="flex items-center gap-3">
        <h2 className="text-lg font-semibold">Live{figures ? `: the last ${figures.window_minutes} minutes` : ""}</h2>
        <span
          className="inline-flex items-center gap-1.5 rounded-full bg-white px-2 py-0.5 text-xs font-medium ring-1 ring-slate-200"
          data-testid="live-state"
          data-state={state}
        >
          <span className={`h-2 w-2 rounded-full ${indicator.tone}`} aria-hidden="true" />
          {indicator.text}
        </span>
      </div>
      {figures && (
        <>
          <div className="grid grid-cols-2 gap-3 lg:grid-cols-5">
            <Headline label="Predictions" value={String(figures.predictions)} testId="live-predictions" />
            <Headline
              label="Per minute"
              value={perMinute === null ? "–" : String(Number(perMinute.toPrecision(3)))}
              testId="live-per-minute"
            />
            <Headline
              label="Latency p50 / p95 / p99"
              value={["p50", "p95", "p99"].map((key) => millis(figures.latency_ms[key])).join(" / ")}
              testId="live-latency"
            />
            <Headline
              label={`Low confidence (< ${percent(figures.low_confidence_threshold)})`}
              value={percent(figures.low_confidence_share)}
              testId="live-low-confidence"
            />
            <Headline label="Rejected inputs" value={percent(figures.rejected_share)} testId="live-rejected" />
          </div>
          <div className="grid gap-3 lg:grid-cols-3">
            <Card title="Predictions per minute" testId="live-minutes">
              <Sparkbars values={counts} title={`per minute: ${counts.join(", ")}`} />
            </Card>
            <Card title="Async tasks" testId="live-tasks">
              {figures.tasks ? (
                <p className="tabular-nums">
                  <span data-testid="live-tasks-queued">{figures.tasks.queued}</span> queued,{" "}
                  <span data-testid="live-tasks-running">{figures.tasks.running}</span> running
                </p>
              ) : (
                <p className="text-slate-500">unknown: the service cannot reach Redis</p>
              )}
            </Card>
            <Card title={`Corrections to review: ${figures.corrections_pending}`} testId="live-corrections">
              <ul className="space-y-1 text-sm">
                {figures.newest_corrections.map((item) => (
                  <li key={item.log_id} data-testid="live-correction">
                    <span className="font-mono">
                      {item.predicted_text !== null ? <ReadingText text={item.predicted_text} /> : "–"}
                    </span>{" "}
                    →{" "}
                    <span className="font-mono font-semibold">
                      <ReadingText text={item.corrected_text} />
                    </span>{" "}
                    <span className="text-slate-500">
                      by {item.corrected_by}, {dateTime(item.corrected_at)}
                    </span>
                  </li>
                ))}
              </ul>
            </Card>
          </div>
        </>
      )}
    </section>
  );
}
