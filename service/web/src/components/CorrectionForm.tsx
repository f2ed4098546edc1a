/**
 * "Wrong? Type the right number": send what a reading should have been, for an admin to review.
 *
 * Only the characters the model can read (`CHARSET`: 0–9 . , - + e × ^) are accepted, the number
 * written as it is on the paper (a comma stays a comma). A "^" marks a raised exponent
 * ("6.02×10^23"): a hint says so, a button inserts "×10^" (and one a minus, which a phone's decimal
 * keypad may lack), and the typed text is shown raised. An "x" or "*" becomes "×", an "E" "e", a
 * "−" "-". Anything else gets a message before it is sent; the service's own refusal (not your
 * prediction, ...) is shown as it says it.
 */
import { useId, useRef, useState, type FormEvent } from "react";
import { ApiError, submitCorrection } from "../api";
import { CHARSET, RAISED, charsetText, invalidChars } from "../charset";
import { ReadingText } from "./ReadingText";

interface CorrectionFormProps {
  logId: string;
  predicted: string;
  token: string;
  onAuthError(error: ApiError): void;
}

type Outcome = { tone: "saved" | "error"; message: string } | null;

const MAX_LENGTH = 128;
/** The charset as an `<input pattern>` (a hint to the browser: the form checks the text itself). */
const PATTERN = `[${CHARSET.replace(/[-\\\]^]/g, "\\$&")}]+`;
const SAVED = "Thanks — saved for review.";
/** What the buttons beside the field insert at the cursor. */
const INSERTS = [
  { text: "×10^", label: "×10^", name: "Insert ×10^ (a raised power of ten follows)" },
  { text: "-", label: "−", name: "Insert a minus sign" },
];

/** What a person typed, in the charset's spelling: no spaces, "x" or "*" as "×", "E" as "e", "−" as "-". */
function normalized(raw: string): string {
  return raw.replace(/\s+/g, "").replace(/[xX*]/g, "×").replace(/E/g, "e").replace(/[−–]/g, "-");
}

/** Why `text` cannot be sent as a correction of `predicted`, or null when it can. */
function correctionProblem(text: string, predicted: string): string | null {
  if (!text) return "Type the number as it is written, e.g. 42 or 3.14.";
  const bad = invalidChars(text);
  if (bad.length > 0)
    return `Use only ${charsetText()}, not ${bad.map((char) => `“${char}”`).join(" ")}: e.g. 42, -4.5 or 6.02×10^23.`;
  if (text.length > MAX_LENGTH) return `That is too long: at most ${MAX_LENGTH} characters.`;
  if (text === predicted) return "That is what Digitify read. Type the number as it should have been read.";
  return null;
}

export function CorrectionForm({ logId, predicted, token, onAuthError }: CorrectionFormProps) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const problemId = useId();
  const hintId = useId();

  const change = (raw: string) => {
    const next = normalized(raw);
    setText(next);
    setOutcome(null);
    setProblem(invalidChars(next).length > 0 ? correctionProblem(next, predicted) : null);
  };

  /** Put `piece` where the cursor is (over the selection), and the cursor after it. */
  const insert = (piece: string) => {
    const field = input.current;
    const start = field?.selectionStart ?? text.length;
    const end = field?.selectionEnd ?? text.length;
    change(text.slice(0, start) + piece + text.slice(end));
    requestAnimationFrame(() => {
      field?.focus();
      field?.setSelectionRange(start + piece.length, start + piece.length);
    });
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
          ref={input}
          id={inputId}
          data-testid="correction-input"
          value={text}
          onChange={(event) => change(event.currentTarget.value)}
          inputMode="decimal"
          autoComplete="off"
          spellCheck={false}
          maxLength={MAX_LENGTH}
          pattern={PATTERN}
          placeholder="e.g. 42, -4.5 or 6.02×10^23"
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${problemId} ${hintId}` : hintId}
          className="w-0 min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 font-mono text-lg focus:border-slate-600 focus:outline-none aria-invalid:border-rose-500"
        />
        {INSERTS.map((piece) => (
          <button
            key={piece.text}
            type="button"
            data-testid="correction-insert"
            aria-label={piece.name}
            title={piece.name}
            onClick={() => insert(piece.text)}
            className="rounded-md border border-slate-300 px-2 py-2 font-mono text-sm hover:bg-slate-100"
          >
            {piece.label}
          </button>
        ))}
        <button
          type="submit"
          data-testid="correction-submit"
          disabled={busy}
          className="rounded-md bg-slate-900 px-4 py-2 font-semibold text-white hover:bg-slate-700 disabled:cursor-wait disabled:opacity-60"
        >
          {busy ? "Sending…" : "Send"}
        </button>
      </div>
      <p id={hintId} data-testid="correction-hint" className="text-xs text-slate-500">
        Type {RAISED} before a raised exponent: 6.02×10{RAISED}23
        {text.includes(RAISED) && (
          <>
            {" "}
            · yours reads{" "}
            <span data-testid="correction-preview" className="font-mono text-sm font-semibold text-slate-900">
              <ReadingText text={text} />
            </span>
          </>
        )}
      </p>
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
