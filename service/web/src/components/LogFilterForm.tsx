/**
 * The log viewer's filters: user, predicted text, a character it contains, confidence range, value
 * range, date range, model version and outcome. Applied on submit, so typing does not fire queries.
 */
import { useState, type FormEvent } from "react";
import { EMPTY_FILTERS, type LogFilters } from "../adminApi";
import { CHAR_NAMES, CHARSET } from "../charset";

interface LogFilterFormProps {
  value: LogFilters;
  outcomes: string[];
  modelVersions: string[];
  onApply(filters: LogFilters): void;
}

const FIELD = "w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm focus:border-slate-600 focus:outline-none";

export function LogFilterForm({ value, outcomes, modelVersions, onApply }: LogFilterFormProps) {
  const [draft, setDraft] = useState<LogFilters>(value);
  const set = (key: keyof LogFilters) => (event: { currentTarget: { value: string } }) => {
    const next = event.currentTarget.value;
    setDraft((old) => ({ ...old, [key]: next }));
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form onSubmit={submit} className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-5" data-testid="log-filters">
      <Field label="User">
        <input className={FIELD} value={draft.user} onChange={set("user")} data-testid="filter-user" />
      </Field>
      <Field label="Text is">
        <input
          className={FIELD}
          value={draft.text}
          onChange={set("text")}
          inputMode="decimal"
          data-testid="filter-text"
        />
      </Field>
      <Field label="Contains">
        <select className={FIELD} value={draft.contains} onChange={set("contains")} data-testid="filter-digit">
          <option value="">any</option>
          {Array.from(CHARSET).map((char) => (
            <option key={char} value={char}>
              {CHAR_NAMES[char] ? `${char} (${CHAR_NAMES[char]})` : char}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Confidence from">
        <input
          className={FIELD}
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={draft.minConfidence}
          onChange={set("minConfidence")}
          data-testid="filter-min-confidence"
          placeholder="0"
        />
      </Field>
      <Field label="Confidence to">
        <input
          className={FIELD}
          type="number"
          min={0}
          max={1}
          step={0.05}
          value={draft.maxConfidence}
          onChange={set("maxConfidence")}
          data-testid="filter-max-confidence"
          placeholder="1"
        />
      </Field>
      <Field label="Value from">
        <input
          className={FIELD}
          value={draft.minValue}
          onChange={set("minValue")}
          inputMode="decimal"
          data-testid="filter-min-value"
          placeholder="e.g. 0.5"
        />
      </Field>
      <Field label="Value to">
        <input
          className={FIELD}
          value={draft.maxValue}
          onChange={set("maxValue")}
          inputMode="decimal"
          data-testid="filter-max-value"
          placeholder="e.g. 1250"
        />
      </Field>
      <Field label="From day">
        <input className={FIELD} type="date" value={draft.since} onChange={set("since")} data-testid="filter-since" />
      </Field>
      <Field label="To day">
        <input className={FIELD} type="date" value={draft.until} onChange={set("until")} data-testid="filter-until" />
      </Field>
      <Field label="Model version">
        <input
          className={FIELD}
          value={draft.modelVersion}
          onChange={set("modelVersion")}
          list="model-versions"
          data-testid="filter-model-version"
        />
        <datalist id="model-versions">
          {modelVersions.map((version) => (
            <option key={version} value={version} />
          ))}
        </datalist>
      </Field>
      <Field label="Outcome">
        <select className={FIELD} value={draft.outcome} onChange={set("outcome")} data-testid="filter-outcome">
          <option value="">any</option>
          {outcomes.map((outcome) => (
            <option key={outcome} value={outcome}>
              {outcome}
            </option>
          ))}
        </select>
      </Field>
      <div className="col-span-2 flex items-end gap-2 sm:col-span-3 lg:col-span-1">
        <button
          type="submit"
          data-testid="apply-filters"
          className="flex-1 rounded-md bg-slate-900 px-3 py-1.5 text-sm font-semibold text-white hover:bg-slate-700"
        >
          Apply
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft(EMPTY_FILTERS);
            onApply(EMPTY_FILTERS);
          }}
          className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-100"
        >
          Reset
        </button>
      </div>
    </form>
  );
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <label className="block text-xs">
      <span className="mb-1 block font-medium text-slate-600">{label}</span>
      {children}
    </label>
  );
}
