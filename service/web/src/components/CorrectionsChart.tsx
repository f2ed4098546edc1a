/**
 * How often people corrected the model: the share of answered predictions with a correction
 * (not rejected), per model version and per day, and how many corrections wait for review.
 */
import type { CorrectionStats } from "../adminApi";
import { BarChart, niceMax } from "../charts/BarChart";
import { LineChart } from "../charts/LineChart";
import { percent } from "../format";
import { Card } from "./Card";

interface CorrectionsChartProps {
  corrections: CorrectionStats;
}

export function CorrectionsChart({ corrections }: CorrectionsChartProps) {
  const { by_model_version: versions, by_day: days } = corrections;
  const dayTop = niceMax(Math.max(0, ...days.map((day) => day.share)));
  return (
    <Card title="Predictions corrected" testId="chart-corrections">
      <p className="mb-3 text-sm text-slate-600" data-testid="corrections-summary">
        {corrections.total === 1 ? "1 correction" : `${corrections.total} corrections`}: {corrections.pending} pending,{" "}
        {corrections.accepted} accepted, {corrections.rejected} rejected.
      </p>
      <div className="grid gap-4 md:grid-cols-2">
        <div>
          <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Per model version</h4>
          <BarChart
            title="Share of answered predictions corrected, per model version"
            colour="#e11d48"
            format={percent}
            testId="chart-corrections-by-version"
            bars={versions.map((version) => ({
              label: version.model_version,
              value: version.share,
              detail: `${percent(version.share)}: ${version.corrected} of ${version.predictions} predictions`,
            }))}
          />
        </div>
        <div>
          <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Per day (UTC)</h4>
          <LineChart
            title="Share of answered predictions corrected, per day"
            labels={days.map((day) => day.day.slice(5))}
            yMax={Math.min(1, dayTop)}
            format={percent}
            testId="chart-corrections-by-day"
            series={[{ name: "corrected", colour: "#e11d48", values: days.map((day) => day.share) }]}
          />
        </div>
      </div>
    </Card>
  );
}
