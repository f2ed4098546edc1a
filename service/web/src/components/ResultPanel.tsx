/**
 * The answer: the predicted string, how sure the model is of it and of each character, and
 * the normalized image the model actually saw.
 */
import { useEffect, useRef } from "react";
import type { PredictionResult } from "../api";
import { confidenceTone, percent } from "../format";
import { ReadingText } from "./ReadingText";

interface ResultPanelProps {
  result: PredictionResult;
  modelInput: string | null;
  source: string | null;
}

/** Below this confidence a reading (or a character) is shown as unsure. */
const UNSURE_BELOW = 0.7;

/** What each separator in `text` did when the service took `decimal` as the decimal separator. */
function separatorRoles(text: string, decimal: "point" | "comma"): string {
  const decimalMark = decimal === "point" ? "." : ",";
  return [".", ","]
    .filter((mark) => text.includes(mark))
    .map((mark) => `“${mark}” ${mark === decimalMark ? "is the decimal mark" : "groups thousands"}`)
    .join(", ");
}

/**
 * The number the reading means, when that says more than the text itself (another spelling, or a
 * separator the rule decided); otherwise, for a text that is no number, why not.
 */
function ReadingValue({ result }: { result: PredictionResult }) {
  if (result.value) {
    if (result.value === result.text && !result.decimal_separator) return null;
    return (
      <p data-testid="reading-value" className="text-sm text-slate-600">
        ={" "}
        <span data-testid="value" className="font-mono font-semibold text-slate-900">
          {result.value}
        </span>
        {result.decimal_separator && (
          <span className="text-slate-500"> · {separatorRoles(result.text, result.decimal_separator)}</span>
        )}
      </p>
    );
  }
  if (!result.text || !result.value_error) return null;
  return (
    <p data-testid="value-error" className="text-sm text-slate-500">
      not a number: {result.value_error}
    </p>
  );
}

export function ResultPanel({ result, modelInput, source }: ResultPanelProps) {
  const panel = useRef<HTMLElement>(null);
  const chars = Array.from(result.text);

  // On a phone the answer appears below the drawing: bring it into view.
  useEffect(() => {
    panel.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [result]);

  // The confidence is calibrated: a reading at 0.7 is right about 7 times in 10. Below that, say so.
  const unsure = result.confidence < UNSURE_BELOW;
  const doubtful = chars.filter((_, index) => (result.char_confidences[index] ?? 0) < UNSURE_BELOW);
  return (
    <section
      ref={panel}
      aria-live="polite"
      aria-label="Prediction"
      className="space-y-4 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
    >
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="min-w-0 flex-1">
          <h2 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Digitify reads</h2>
          <p data-testid="prediction" className="font-mono text-5xl font-bold tracking-wider break-all text-slate-900">
            {result.text ? (
              <ReadingText text={result.text} />
            ) : (
              <span className="font-sans text-2xl font-semibold tracking-normal text-slate-400">no number</span>
            )}
          </p>
          <ReadingValue result={result} />
        </div>
        <div className="text-right">
          <p className="text-xs font-semibold uppercase tracking-wide text-slate-500">Confidence</p>
          <p data-testid="confidence" className="text-3xl font-semibold tabular-nums">
            {percent(result.confidence)}
          </p>
        </div>
      </div>
      {unsure && (
        <p data-testid="unsure" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
          Please check this reading: readings this confident are right only about {percent(result.confidence)} of the
          time.
          {doubtful.length > 0 && ` The least sure: ${doubtful.map((char) => `“${char}”`).join(", ")}.`} Writing larger,
          with clear gaps between digits, helps.
        </p>
      )}
      {chars.length > 0 && (
        <div>
          <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-slate-500">Per character</h3>
          <ol className="flex flex-wrap gap-2" data-testid="char-confidences">
            {chars.map((char, index) => {
              const value = result.char_confidences[index] ?? 0;
              return (
                <li
                  key={index}
                  data-testid="char-confidence"
                  className="flex w-14 flex-col items-center rounded-md border border-slate-200 p-1.5"
                  title={`“${char}”: ${percent(value)} sure`}
                >
                  <span className="font-mono text-2xl font-bold">{char}</span>
                  <span className="mt-1 h-1.5 w-full overflow-hidden rounded bg-slate-200" aria-hidden="true">
                    <span
                      className={`block h-full ${confidenceTone(value)}`}
                      style={{ width: `${Math.round(value * 100)}%` }}
                    />
                  </span>
                  <span className="mt-0.5 text-xs tabular-nums text-slate-600">{percent(value)}</span>
                </li>
              );
            })}
          </ol>
        </div>
      )}
      <div className="grid gap-3 sm:grid-cols-2">
        {modelInput && (
          <figure>
            <figcaption className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">
              What the model saw
            </figcaption>
            <img
              data-testid="model-input"
              src={modelInput}
              alt="The normalized image the model read, 32 pixels high"
              className="h-16 max-w-full rounded border border-slate-300 bg-slate-900 object-contain [image-rendering:pixelated]"
            />
          </figure>
        )}
        {source && (
          <figure>
            <figcaption className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">
              You sent
            </figcaption>
            <img
              src={source}
              alt="The image you sent"
              className="h-16 max-w-full rounded border border-slate-300 bg-white object-contain"
            />
          </figure>
        )}
      </div>
      <p className="text-xs text-slate-500">
        Model{" "}
        <span data-testid="model-version" className="font-mono">
          {result.model_version}
        </span>
        {result.log_id !== null && result.log_id !== undefined && (
          <>
            {" · "}log{" "}
            <span
              data-testid="log-id"
              data-log-id={String(result.log_id)}
              title={String(result.log_id)}
              className="font-mono"
            >
              {String(result.log_id).slice(0, 8)}
            </span>
          </>
        )}
      </p>
    </section>
  );
}
