/** One headline figure of the dashboard: a small label over a large number. */

interface HeadlineProps {
  label: string;
  value: string;
  testId: string;
}

export function Headline({ label, value, testId }: HeadlineProps) {
  return (
    <div className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <p className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</p>
      <p className="text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </p>
    </div>
  );
}
