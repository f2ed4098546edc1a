/**
 * A small responsive line chart in plain SVG: one or more series over the same x labels,
 * with the y axis fixed to a range (e.g. 0–1 for confidences and rates).
 */

export interface Series {
  name: string;
  colour: string;
  values: (number | null)[];
}

interface LineChartProps {
  labels: string[];
  series: Series[];
  title: string;
  yMax?: number;
  format?(value: number): string;
  height?: number;
  testId?: string;
}

const WIDTH = 480;
const PAD = { top: 16, right: 20, bottom: 28, left: 44 };

export function LineChart({ labels, series, title, yMax = 1, format = String, height = 200, testId }: LineChartProps) {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = height - PAD.top - PAD.bottom;
  const step = labels.length > 1 ? plotWidth / (labels.length - 1) : 0;
  const xAt = (index: number) => PAD.left + (labels.length > 1 ? index * step : plotWidth / 2);
  const yAt = (value: number) => PAD.top + plotHeight - (Math.min(value, yMax) / yMax) * plotHeight;
  const labelEvery = Math.max(1, Math.ceil(labels.length / 7));
  return (
    <figure data-testid={testId} className="w-full">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} className="h-auto w-full" role="img" aria-label={title}>
        <title>{title}</title>
        {[0, yMax / 2, yMax].map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={yAt(tick)} y2={yAt(tick)} stroke="#e2e8f0" />
            <text x={PAD.left - 6} y={yAt(tick) + 4} textAnchor="end" fontSize="11" fill="#64748b">
              {format(tick)}
            </text>
          </g>
        ))}
        {labels.map((label, index) =>
          index % labelEvery === 0 ? (
            <text key={label} x={xAt(index)} y={height - 10} textAnchor="middle" fontSize="11" fill="#475569">
              {label}
            </text>
          ) : null,
        )}
        {series.map((line) => {
          const points = line.values
            .map((value, index) => (value === null ? null : `${xAt(index)},${yAt(value)}`))
            .filter((point): point is string => point !== null);
          return (
            <g key={line.name}>
              {points.length > 1 && (
                <polyline points={points.join(" ")} fill="none" stroke={line.colour} strokeWidth="2" />
              )}
              {line.values.map((value, index) =>
                value === null ? null : (
                  <circle key={index} cx={xAt(index)} cy={yAt(value)} r="3" fill={line.colour}>
                    <title>{`${line.name}, ${labels[index]}: ${format(value)}`}</title>
                  </circle>
                ),
              )}
            </g>
          );
        })}
        {labels.length === 0 && (
          <text x={WIDTH / 2} y={height / 2} textAnchor="middle" fontSize="13" fill="#94a3b8">
            No data yet
          </text>
        )}
      </svg>
      {series.length > 1 && (
        <figcaption className="mt-1 flex flex-wrap gap-3 text-xs text-slate-600">
          {series.map((line) => (
            <span key={line.name} className="flex items-center gap-1">
              <span className="inline-block h-2 w-3 rounded" style={{ background: line.colour }} />
              {line.name}
            </span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}
