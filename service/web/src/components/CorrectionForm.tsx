/**
 * "Wrong? Type the right number": send what a reading should have been, for an admin to review.
 *
 * Only the characters the model can read (0–9 and ".") are accepted; a comma, which a phone's
 * decimal keypad offers in many languages, becomes a point. Anything else gets a message before
 * it is sent; the service's own refusal (not your prediction, ...) is shown as it says it.
 */
import { useId, useState, type FormEvent } from "react";
import { ApiError, submitCorrection } from "../api";

interface CorrectionFormProps {
  logId: string;
  predicted: string;
  token: string;
  onAuthError(error: ApiError): void;
}

type Outcome = { tone: "saved" | "error"; message: string } | null;

const MAX_LENGTH = 128;
const CHARSET = /^[0-9.]+$/;
const SAVED = "Thanks — saved for review.";

/** Why `text` cannot be sent as a correction of `predicted`, or null when it can. */
function correctionProblem(text: string, predicted: string): string | null {
  if (!text) return "Type the number as it is written, e.g. 42 or 3.14.";
  if (!CHARSET.test(text)) return "Use only the digits 0–9 and a decimal point (.), e.g. 42 or 3.14.";
  if (text.length > MAX_LENGTH) return `That is too long: at most ${MAX_LENGTH} characters.`;
  if (text === predicted) return "That is what Digitify read. Type the number as it should have been read.";
  return null;
}

export function CorrectionForm({ logId, predicted, token, onAuthError }: CorrectionFormProps) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const problemId = useId();

  const change = (raw: string) => {
    const next = raw.replace(/,/g, ".").replace(/\s+/g, "");
    setText(next);
    setOutcome(null);
    setProblem(next && !CHARSET.test(next) ? correctionProblem(next, predicted) : null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = correctionProblem(text, predicted);
    setProblem(found);
    if (found) return;
    setBusy(true);
    setOutcome(null);
    try {
      await submitCorrection(logId, text, token);
      setOutcome({ tone: "saved", message: SAVED });
    } catch (caught) {
      if (caught instanceof ApiError && caught.kind === "unauthorized") onAuthError(caught);
      else setOutcome({ tone: "error", message: caught instanceof Error ? caught.message : "Saving failed." });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label="Correct the reading"
      data-testid="correction-form"
      className="space-y-2 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
    >
      <label htmlFor={inputId} className="block text-sm font-semibold text-slate-700">
        Wrong? Type the right number
      </label>
      <div className="flex gap-2">
        <input
          id={inputId}
          data-testid="correction-input"
          value={text}
          onChange={(event) => change(event.currentTarget.value)}
          inputMode="decimal"
          autoComplete="off"
          spellCheck={false}
          maxLength={MAX_LENGTH}
          pattern="[0-9.]+"
          placeholder="e.g. 42 or 3.14"
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? problemId : undefined}
          className="w-0 min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 font-mono text-lg focus:border-slate-600 focus:outline-none aria-invalid:border-rose-500"
        />
        <button
          type="submit"
          data-testid="correction-submit"
          disabled={busy}
          className="rounded-md bg-slate-900 px-4 py-2 font-semibold text-white hover:bg-slate-700 disabled:cursor-wait disabled:opacity-60"
        >
          {busy ? "Sending…" : "Send"}
        </button>
      </div>
      {problem && (
        <p id={problemId} role="alert" data-testid="correction-problem" className="text-sm text-rose-700">
          {problem}
        </p>
      )}
      <div aria-live="polite">
        {outcome && (
          <p
            data-testid={outcome.tone === "error" ? "correction-error" : "correction-saved"}
            className={`rounded-md px-3 py-2 text-sm ${
              outcome.tone === "error" ? "bg-rose-50 text-rose-900" : "bg-emerald-50 text-emerald-900"
            }`}
          >
            {outcome.message}
          </p>
        )}
      </div>
    </form>
  );
}
