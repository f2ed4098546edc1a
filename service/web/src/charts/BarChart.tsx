/**
 * A small responsive bar chart in plain SVG: one bar per labelled value, value labels on hover
 * (title) and under the axis when there is room.
 */

export interface Bar {
  label: string;
  value: number;
  /** Optional text shown on hover instead of the raw value. */
  detail?: string;
}

interface BarChartProps {
  bars: Bar[];
  title: string;
  format?(value: number): string;
  colour?: string;
  height?: number;
  testId?: string;
}

const WIDTH = 480;
const PAD = { top: 16, right: 8, bottom: 28, left: 44 };
const MAX_BAR = 56;

/** Round a maximum up to a "nice" axis top: 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function BarChart({ bars, title, format = String, colour = "#0f766e", height = 200, testId }: BarChartProps) {
  const top = niceMax(Math.max(0, ...bars.map((bar) => bar.value)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = height - PAD.top - PAD.bottom;
  const slot = bars.length ? plotWidth / bars.length : plotWidth;
  const labelEvery = Math.max(1, Math.ceil(bars.length / 8));
  const ticks = [0, top / 2, top];
  return (
    <figure data-testid={testId} className="w-full">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} className="h-auto w-full" role="img" aria-label={title}>
        <title>{title}</title>
        {ticks.map((tick) => {
          const y = PAD.top + plotHeight - (tick / top) * plotHeight;
          return (
            <g key={tick}>
              <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} stroke="#e2e8f0" />
              <text x={PAD.left - 6} y={y + 4} textAnchor="end" fontSize="11" fill="#64748b">
                {format(tick)}
              </text>
            </g>
          );
        })}
        {bars.map((bar, index) => {
          const barHeight = (bar.value / top) * plotHeight;
          const barWidth = Math.max(1, Math.min(slot * 0.76, MAX_BAR));
          const centre = PAD.left + index * slot + slot / 2;
          return (
            <g key={`${bar.label}-${index}`}>
              <rect
                x={centre - barWidth / 2}
                y={PAD.top + plotHeight - barHeight}
                width={barWidth}
                height={Math.max(0, barHeight)}
                fill={colour}
                rx="2"
              >
                <title>{`${bar.label}: ${bar.detail ?? format(bar.value)}`}</title>
              </rect>
              {index % labelEvery === 0 && (
                <text x={centre} y={height - 10} textAnchor="middle" fontSize="11" fill="#475569">
                  {bar.label}
                </text>
              )}
            </g>
          );
        })}
        {bars.length === 0 && (
          <text x={WIDTH / 2} y={height / 2} textAnchor="middle" fontSize="13" fill="#94a3b8">
            No data yet
          </text>
        )}
      </svg>
    </figure>
  );
}
