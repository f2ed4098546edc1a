/**
 * An image the service stored for a prediction, fetched with the admin's bearer token (an
 * `<img src>` cannot send it) and shown through a `blob:` URL; "no image" when none was kept.
 */
import { useEffect, useState } from "react";
import { fetchStoredImage } from "../adminApi";
import { ApiError } from "../api";

interface StoredImageProps {
  url: string | null | undefined;
  token: string;
  alt: string;
  className?: string;
}

type State =
  { kind: "loading" } | { kind: "missing" } | { kind: "failed"; message: string } | { kind: "shown"; src: string };

export function StoredImage({ url, token, alt, className = "h-12 max-w-32" }: StoredImageProps) {
  const [state, setState] = useState<State>(url ? { kind: "loading" } : { kind: "missing" });

  useEffect(() => {
    if (!url) {
      setState({ kind: "missing" });
      return;
    }
    let live = true;
    let src: string | null = null;
    setState({ kind: "loading" });
    fetchStoredImage(url, token)
      .then((blob) => {
        if (!live) return;
        src = URL.createObjectURL(blob);
        setState({ kind: "shown", src });
      })
      .catch((caught: unknown) => {
        if (!live) return;
        if (caught instanceof ApiError && caught.kind === "not-found") setState({ kind: "missing" });
        else setState({ kind: "failed", message: caught instanceof Error ? caught.message : "Loading failed." });
      });
    return () => {
      live = false;
      if (src) URL.revokeObjectURL(src);
    };
  }, [url, token]);

  const frame = "inline-flex items-center justify-center rounded border border-slate-200 text-xs";
  if (state.kind === "shown") {
    return (
      <a
        href={state.src}
        target="_blank"
        rel="noopener"
        data-testid="stored-image"
        data-state="shown"
        title="Open the image full size"
        className="inline-block"
      >
        <img
          src={state.src}
          alt={alt}
          className={`${className} rounded border border-slate-200 bg-white object-contain`}
        />
      </a>
    );
  }
  if (state.kind === "loading") {
    return (
      <span
        data-testid="stored-image"
        data-state="loading"
        className={`${frame} ${className} w-16 animate-pulse bg-slate-100`}
      >
        <span className="sr-only">Loading the image…</span>
      </span>
    );
  }
  return (
    <span
      data-testid="stored-image"
      data-state={state.kind}
      title={state.kind === "failed" ? state.message : "The image of this prediction was not kept"}
      className={`${frame} px-2 py-1 text-slate-500`}
    >
      {state.kind === "failed" ? "image unavailable" : "no image"}
    </span>
  );
}
