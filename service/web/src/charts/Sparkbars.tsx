/** A tiny inline histogram (no axes) for table cells, e.g. one model version's confidence distribution. */

interface SparkbarsProps {
  values: number[];
  title: string;
  colour?: string;
}

export function Sparkbars({ values, title, colour = "#6366f1" }: SparkbarsProps) {
  const top = Math.max(1, ...values);
  const width = values.length * 6;
  return (
    <svg viewBox={`0 0 ${width} 20`} className="h-5 w-24" role="img" aria-label={title}>
      <title>{title}</title>
      {values.map((value, index) => (
        <rect
          key={index}
          x={index * 6 + 0.5}
          width="5"
          y={20 - (value / top) * 20}
          height={(value / top) * 20}
          fill={colour}
        />
      ))}
    </svg>
  );
}
