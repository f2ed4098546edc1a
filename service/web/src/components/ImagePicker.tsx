/**
 * Upload, paste or drop a picture of a number, or (on a phone) take a photo of one. Only images
 * are accepted; anything else gets a message saying so before it is sent.
 */
import { useEffect, useRef, useState } from "react";

/** Where a picture came from: a camera photo is cropped before it is read, a file is read at once. */
export type PictureSource = "file" | "camera";

interface ImagePickerProps {
  onPick(file: File, source: PictureSource): void;
  onReject(message: string): void;
}

const ACCEPTED = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"];

function firstImage(files: FileList | null | undefined, items?: DataTransferItemList | null): File | null {
  for (const file of Array.from(files ?? [])) if (file.type.startsWith("image/")) return file;
  for (const item of Array.from(items ?? [])) {
    if (item.kind === "file" && item.type.startsWith("image/")) return item.getAsFile();
  }
  return null;
}

export function ImagePicker({ onPick, onReject }: ImagePickerProps) {
  const input = useRef<HTMLInputElement>(null);
  const camera = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);

  const take = (file: File | null, anyFiles: boolean, source: PictureSource = "file") => {
    if (file) onPick(file, source);
    else if (anyFiles) onReject("That file isn't a picture. Use a PNG, JPEG, WebP, GIF or BMP image.");
  };

  useEffect(() => {
    const onPaste = (event: ClipboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
      const data = event.clipboardData;
      const file = firstImage(data?.files, data?.items);
      if (file) {
        event.preventDefault();
        onPick(file, "file");
      } else if (data && data.files.length > 0) {
        onReject("The pasted content isn't a picture.");
      }
    };
    window.addEventListener("paste", onPaste);
    return () => window.removeEventListener("paste", onPaste);
  }, [onPick, onReject]);

  return (
    <div
      data-testid="drop-zone"
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        take(firstImage(event.dataTransfer.files), event.dataTransfer.files.length > 0);
      }}
      className={`flex flex-col items-center gap-2 rounded-lg border-2 border-dashed px-4 py-4 text-center text-sm transition ${
        dragging ? "border-sky-500 bg-sky-50" : "border-slate-300 bg-white"
      }`}
    >
      <p className="text-slate-600 pointer-coarse:hidden">
        Or use a picture: drop it here, paste it (<kbd className="font-mono">Ctrl</kbd>+
        <kbd className="font-mono">V</kbd>), or
      </p>
      <p className="hidden text-slate-600 pointer-coarse:block">Or use a picture of a number:</p>
      <div className="flex flex-wrap justify-center gap-2">
        <button
          type="button"
          data-testid="take-photo"
          onClick={() => camera.current?.click()}
          className="hidden rounded-md border border-slate-300 bg-slate-100 px-3 py-1.5 font-medium hover:bg-slate-200 pointer-coarse:inline-block"
        >
          Take a photo…
        </button>
        <button
          type="button"
          onClick={() => input.current?.click()}
          className="rounded-md border border-slate-300 bg-slate-100 px-3 py-1.5 font-medium hover:bg-slate-200"
        >
          Choose a file…
        </button>
      </div>
      <input
        ref={input}
        type="file"
        accept={ACCEPTED.join(",")}
        data-testid="upload-input"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const files = event.currentTarget.files;
          take(firstImage(files), (files?.length ?? 0) > 0);
          event.currentTarget.value = "";
        }}
      />
      <input
        ref={camera}
        type="file"
        accept="image/*"
        capture="environment"
        data-testid="camera-input"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(event) => {
          const files = event.currentTarget.files;
          take(firstImage(files), (files?.length ?? 0) > 0, "camera");
          event.currentTarget.value = "";
        }}
      />
    </div>
  );
}
