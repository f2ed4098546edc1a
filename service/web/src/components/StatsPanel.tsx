/**
 * The analytics: headline numbers, predictions per day, confidence distribution (and over
 * time when the service reports it per day), latency percentiles, the per-model-version
 * comparison, the busiest users and how often people corrected the model.
 */
import { countOf, type StatsAnswer, type VersionStats } from "../adminApi";
import { BarChart } from "../charts/BarChart";
import { LineChart } from "../charts/LineChart";
import { Sparkbars } from "../charts/Sparkbars";
import { millis, percent } from "../format";
import { Card } from "./Card";
import { CorrectionsChart } from "./CorrectionsChart";
import { Headline } from "./Headline";

interface StatsPanelProps {
  stats: StatsAnswer;
  versions: VersionStats[];
}

/** Share of rejected inputs among all rows, or null without rows. */
function rejectedRate(stats: StatsAnswer): number | null {
  return stats.total ? countOf(stats.by_outcome, "rejected") / stats.total : null;
}

const shortNumber = (value: number) => `${Number(value.toPrecision(3))}`;

export function StatsPanel({ stats, versions }: StatsPanelProps) {
  const days = stats.per_day.map((day) => day.day.slice(5));
  const latencies = Object.entries(stats.latency_ms).filter(
    (entry): entry is [string, number] => typeof entry[1] === "number",
  );
  const threshold = percent(stats.low_confidence_threshold);
  const hasDailyConfidence = stats.per_day.some(
    (day) => day.mean_confidence != null || day.low_confidence_rate != null,
  );
  return (
    <div className="space-y-4" data-testid="stats">
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
        <Headline label="Requests logged" value={String(stats.total)} testId="stat-total" />
        <Headline
          label={`Low confidence (< ${threshold})`}
          value={percent(stats.low_confidence_rate)}
          testId="stat-low-confidence"
        />
        <Headline label="Rejected inputs" value={percent(rejectedRate(stats))} testId="stat-rejected" />
        <Headline
          label="Latency p50 / p95"
          value={`${millis(stats.latency_ms.p50)} / ${millis(stats.latency_ms.p95)}`}
          testId="stat-latency"
        />
      </div>
      <div className="grid gap-4 md:grid-cols-2">
        <Card title="Predictions per day (UTC)" testId="chart-per-day">
          <BarChart
            title="Predictions per day"
            bars={stats.per_day.map((day, index) => ({ label: days[index], value: day.count }))}
          />
        </Card>
        <Card title="Confidence distribution" testId="chart-confidence">
          <BarChart
            title="How many answered predictions fall in each confidence range"
            colour="#6366f1"
            bars={stats.confidence_histogram.map((bin) => ({
              label: percent(bin.low),
              value: bin.count,
              detail: `${bin.count} between ${percent(bin.low)} and ${percent(bin.high)}`,
            }))}
          />
        </Card>
        {hasDailyConfidence && (
          <Card title="Confidence over time" testId="chart-confidence-over-time">
            <LineChart
              title="Mean confidence and low-confidence rate per day"
              labels={days}
              format={percent}
              series={[
                {
                  name: "mean confidence",
                  colour: "#6366f1",
                  values: stats.per_day.map((day) => day.mean_confidence ?? null),
                },
                {
                  name: `under ${threshold}`,
                  colour: "#e11d48",
                  values: stats.per_day.map((day) => day.low_confidence_rate ?? null),
                },
              ]}
            />
          </Card>
        )}
        <Card title="Latency percentiles (ms)" testId="chart-latency">
          <BarChart
            title="Latency percentiles in milliseconds"
            colour="#f59e0b"
            format={shortNumber}
            bars={latencies.map(([name, value]) => ({ label: name, value, detail: millis(value) }))}
          />
        </Card>
        <Card title="Requests per user" testId="per-user">
          <BarChart
            title="Requests per user"
            colour="#0ea5e9"
            bars={stats.per_user.slice(0, 10).map((user) => ({ label: user.key ?? "–", value: user.count }))}
          />
        </Card>
      </div>
      {stats.corrections && <CorrectionsChart corrections={stats.corrections} />}
      <Card title="Model versions compared" testId="model-versions">
        <div className="overflow-x-auto">
          <table className="min-w-full text-sm">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="py-1 pr-4">Version</th>
                <th className="py-1 pr-4 text-right">Requests</th>
                <th className="py-1 pr-4 text-right">Rejected</th>
                <th className="py-1 pr-4 text-right">Low confidence</th>
                <th className="py-1 pr-4">Confidence distribution</th>
                <th className="py-1 pr-4 text-right">p50</th>
                <th className="py-1 text-right">p95</th>
              </tr>
            </thead>
            <tbody>
              {versions.map(({ version, stats: own }) => (
                <tr key={version} className="border-t border-slate-100" data-testid="model-version-row">
                  <td className="py-1.5 pr-4 font-mono">{version}</td>
                  <td className="py-1.5 pr-4 text-right tabular-nums">{own.total}</td>
                  <td className="py-1.5 pr-4 text-right tabular-nums">{percent(rejectedRate(own))}</td>
                  <td className="py-1.5 pr-4 text-right tabular-nums">{percent(own.low_confidence_rate)}</td>
                  <td className="py-1.5 pr-4">
                    <Sparkbars
                      values={own.confidence_histogram.map((bin) => bin.count)}
                      title={`Confidence distribution of model ${version}, 0% to 100%`}
                    />
                  </td>
                  <td className="py-1.5 pr-4 text-right tabular-nums">{millis(own.latency_ms.p50)}</td>
                  <td className="py-1.5 text-right tabular-nums">{millis(own.latency_ms.p95)}</td>
                </tr>
              ))}
              {versions.length === 0 && (
                <tr>
                  <td colSpan={7} className="py-3 text-center text-slate-500">
                    No predictions yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}
