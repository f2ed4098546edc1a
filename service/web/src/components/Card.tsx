/** A white panel with a small heading: one figure or table of the dashboard. */

interface CardProps {
  title: string;
  children: React.ReactNode;
  testId?: string;
}

export function Card({ title, children, testId }: CardProps) {
  return (
    <section className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid={testId}>
      <h3 className="mb-2 text-sm font-semibold text-slate-700">{title}</h3>
      {children}
    </section>
  );
}
