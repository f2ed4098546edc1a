/**
 * How the service should read a "." or "," in the number for its value: its own setting (the
 * parameter is left off), auto-detect, or a fixed decimal mark (the other mark then groups thousands).
 */
import type { SeparatorRule } from "../api";

interface SeparatorChoiceProps {
  value: SeparatorRule | undefined;
  onChange(rule: SeparatorRule | undefined): void;
}

const CHOICES: { rule: SeparatorRule | undefined; label: string }[] = [
  { rule: undefined, label: "service default" },
  { rule: "auto", label: "auto-detect" },
  { rule: "point", label: "point (1,250.5)" },
  { rule: "comma", label: "comma (1.250,5)" },
];

export function SeparatorChoice({ value, onChange }: SeparatorChoiceProps) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="text-slate-600">Decimal mark</span>
      <select
        data-testid="decimal-separator"
        value={value ?? ""}
        onChange={(event) => onChange((event.currentTarget.value || undefined) as SeparatorRule | undefined)}
        className="rounded-md border border-slate-300 bg-white px-2 py-1 focus:border-slate-600 focus:outline-none"
      >
        {CHOICES.map(({ rule, label }) => (
          <option key={label} value={rule ?? ""}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}
