/**
 * The main page: draw a number (or give a picture of one and box it), press "Read it", see the
 * answer, and correct it when it is wrong.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, predict, preview, type PredictionResult, type SeparatorRule } from "../api";
import { CorrectionForm } from "../components/CorrectionForm";
import { CropBox, type CropBoxHandle } from "../components/CropBox";
import { DrawCanvas, type DrawCanvasHandle } from "../components/DrawCanvas";
import { ErrorBanner } from "../components/ErrorBanner";
import { ImagePicker, type PictureSource } from "../components/ImagePicker";
import { ResultPanel } from "../components/ResultPanel";
import { SeparatorChoice } from "../components/SeparatorChoice";

interface RecognizePageProps {
  token: string;
  onAuthError(error: ApiError): void;
}

interface Picture {
  file: File;
  url: string;
}

interface Answer {
  result: PredictionResult;
  modelInput: string | null;
  source: string | null;
}

export function RecognizePage({ token, onAuthError }: RecognizePageProps) {
  const canvas = useRef<DrawCanvasHandle>(null);
  const cropper = useRef<CropBoxHandle>(null);
  const [strokeWidth, setStrokeWidth] = useState(14);
  const [strokeCount, setStrokeCount] = useState(0);
  const [picture, setPicture] = useState<Picture | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [separatorRule, setSeparatorRule] = useState<SeparatorRule | undefined>(undefined);

  useEffect(() => {
    if (!picture) return;
    return () => URL.revokeObjectURL(picture.url);
  }, [picture]);

  const sent = answer?.source;
  useEffect(() => {
    if (!sent) return;
    return () => URL.revokeObjectURL(sent);
  }, [sent]);

  const read = useCallback(
    async (image: Blob, wholePicture = false) => {
      setBusy(true);
      setError(null);
      let result: PredictionResult;
      try {
        result = await predict(image, token, separatorRule);
      } catch (caught) {
        setAnswer(null);
        if (caught instanceof ApiError && caught.kind === "unauthorized") onAuthError(caught);
        else if (caught instanceof ApiError && caught.status === 413 && wholePicture) {
          setError(`${caught.message} Drag the box around the number and press Read this box to send just that part.`);
        } else setError(caught instanceof Error ? caught.message : "Something went wrong. Please try again.");
        return;
      } finally {
        setBusy(false);
      }
      setAnswer({ result, modelInput: null, source: URL.createObjectURL(image) });
      const modelInput = await preview(image, token);
      if (modelInput) setAnswer((old) => (old?.result === result ? { ...old, modelInput } : old));
    },
    [token, onAuthError, separatorRule],
  );

  const onPredict = async () => {
    if (picture) {
      const crop = await cropper.current?.toFile();
      if (crop) await read(crop);
      else setError("The picture is still loading. Try again in a moment.");
      return;
    }
    const blob = await canvas.current?.toBlob();
    if (!blob) {
      setError("Draw a number first, or choose a picture of one.");
      return;
    }
    await read(blob);
  };

  const onPick = useCallback(
    (file: File, source: PictureSource) => {
      setPicture({ file, url: URL.createObjectURL(file) });
      setError(null);
      if (source === "file") void read(file, true);
      else setAnswer(null);
    },
    [read],
  );

  const onReject = useCallback((message: string) => setError(message), []);

  const onStrokes = useCallback((count: number) => {
    setStrokeCount(count);
    if (count > 0) setError(null);
  }, []);

  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
      <section className="space-y-3" aria-label="Your number">
        {picture && (
          <div className="space-y-2">
            <CropBox ref={cropper} key={picture.url} src={picture.url} type={picture.file.type} onError={onReject} />
            <button
              type="button"
              onClick={() => setPicture(null)}
              className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100"
            >
              Back to drawing
            </button>
          </div>
        )}
        <div className={picture ? "hidden" : "space-y-3"}>
          <DrawCanvas ref={canvas} strokeWidth={strokeWidth} onChange={onStrokes} />
          <div className="flex flex-wrap items-center gap-3 text-sm">
            <label className="flex items-center gap-2">
              <span className="text-slate-600">Pen</span>
              <input
                type="range"
                min={4}
                max={32}
                step={1}
                value={strokeWidth}
                data-testid="stroke-width"
                onChange={(event) => setStrokeWidth(Number(event.currentTarget.value))}
                className="w-28 accent-slate-800"
                aria-label="Stroke width"
              />
              <span className="w-10 tabular-nums text-slate-600">{strokeWidth} px</span>
            </label>
            <button
              type="button"
              data-testid="undo"
              disabled={strokeCount === 0}
              onClick={() => canvas.current?.undo()}
              className="rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium hover:bg-slate-100 disabled:opacity-40"
            >
              Undo
            </button>
            <button
              type="button"
              data-testid="clear"
              disabled={strokeCount === 0}
              onClick={() => {
                canvas.current?.clear();
                setAnswer(null);
              }}
              className="rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium hover:bg-slate-100 disabled:opacity-40"
            >
              Clear
            </button>
          </div>
        </div>
        <SeparatorChoice value={separatorRule} onChange={setSeparatorRule} />
        <button
          type="button"
          data-testid="predict"
          onClick={() => void onPredict()}
          disabled={busy}
          className="w-full rounded-lg bg-slate-900 px-4 py-3 text-lg font-semibold text-white shadow hover:bg-slate-700 disabled:cursor-wait disabled:opacity-60"
        >
          {busy ? "Reading…" : picture ? "Read this box" : "Read it"}
        </button>
        <ImagePicker onPick={onPick} onReject={onReject} />
      </section>
      <div className="space-y-3">
        <ErrorBanner message={error} onDismiss={() => setError(null)} />
        {answer ? (
          <>
            <ResultPanel result={answer.result} modelInput={answer.modelInput} source={answer.source} />
            {answer.result.log_id !== null && answer.result.log_id !== undefined && (
              <CorrectionForm
                key={String(answer.result.log_id)}
                logId={String(answer.result.log_id)}
                predicted={answer.result.text}
                token={token}
                onAuthError={onAuthError}
              />
            )}
          </>
        ) : (
          <p className="rounded-xl border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500">
            {picture ? (
              <>
                Put the box around the number, then press <strong>Read this box</strong>.
              </>
            ) : (
              <>
                Write a number such as <span className="font-mono">42</span> or <span className="font-mono">3.14</span>{" "}
                in the box, then press <strong>Read it</strong>.
              </>
            )}
          </p>
        )}
      </div>
    </div>
  );
}
