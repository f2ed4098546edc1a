/**
 * A picture (an upload or a phone photo) with a box to drag around the number.
 *
 * Pointer events with `touch-action: none` make a finger, a pen and a mouse work alike: drag
 * inside the box to move it, drag a corner to resize it, drag anywhere else to draw a new box,
 * tap outside it to centre it there. With the keyboard, the focused box moves with the arrow
 * keys and resizes with Shift + arrows. The parent gets the box's full-resolution pixels, cut
 * out on a canvas, through an imperative handle (as the drawing canvas gives its PNG).
 */
import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState } from "react";
import {
  DEFAULT_BOX,
  WHOLE_PICTURE,
  centreBoxAt,
  clampPoint,
  moveBox,
  oppositeCorner,
  pixelRect,
  resizeBox,
  spanBox,
  type Box,
  type Corner,
  type Point,
} from "../crop";

export interface CropBoxHandle {
  /** The box's pixels as an image file (JPEG for photos, PNG otherwise), or null before the picture loads. */
  toFile(): Promise<File | null>;
}

interface CropBoxProps {
  src: string;
  /** The picture's MIME type: a JPEG photo is cut out as JPEG (a PNG of a photo is needlessly large). */
  type: string;
  onError(message: string): void;
}

interface Drag {
  pointerId: number;
  mode: "move" | "span" | "new";
  start: Point;
  startBox: Box;
  anchor: Point;
  moved: boolean;
}

const CORNERS: Corner[] = ["nw", "ne", "sw", "se"];
const CORNER_PLACE: Record<Corner, string> = {
  nw: "left-0 top-0 cursor-nwse-resize",
  ne: "left-full top-0 cursor-nesw-resize",
  sw: "left-0 top-full cursor-nesw-resize",
  se: "left-full top-full cursor-nwse-resize",
};
/** How far (CSS px) a press outside the box must travel before it draws a new box rather than tap. */
const TAP_SLOP_PX = 6;
const KEY_STEP = 0.02;
const JPEG_QUALITY = 0.92;
/** The stage's border (`border-2`): the picture is shown inside it. */
const BORDER_PX = 2;

function fitted(natural: { width: number; height: number }, maxWidth: number, maxHeight: number) {
  const scale = Math.min(maxWidth / natural.width, maxHeight / natural.height);
  return { width: Math.round(natural.width * scale), height: Math.round(natural.height * scale) };
}

function cropFile(image: HTMLImageElement, box: Box, type: string): Promise<File | null> {
  const rect = pixelRect(box, image.naturalWidth, image.naturalHeight);
  const canvas = document.createElement("canvas");
  canvas.width = rect.w;
  canvas.height = rect.h;
  const context = canvas.getContext("2d");
  if (!context) return Promise.resolve(null);
  context.drawImage(image, rect.x, rect.y, rect.w, rect.h, 0, 0, rect.w, rect.h);
  const jpeg = type === "image/jpeg";
  const outType = jpeg ? "image/jpeg" : "image/png";
  return new Promise((resolve) =>
    canvas.toBlob(
      (blob) => resolve(blob ? new File([blob], jpeg ? "crop.jpg" : "crop.png", { type: outType }) : null),
      outType,
      JPEG_QUALITY,
    ),
  );
}

export const CropBox = forwardRef<CropBoxHandle, CropBoxProps>(function CropBox({ src, type, onError }, handle) {
  const frame = useRef<HTMLDivElement>(null);
  const image = useRef<HTMLImageElement>(null);
  const drag = useRef<Drag | null>(null);
  const [natural, setNatural] = useState<{ width: number; height: number } | null>(null);
  const [room, setRoom] = useState(0);
  const [maxHeight] = useState(() => Math.round(Math.min(520, window.innerHeight * 0.6)));
  const [box, setBox] = useState<Box>(DEFAULT_BOX);

  useEffect(() => {
    const element = frame.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setRoom(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  useImperativeHandle(
    handle,
    () => ({
      toFile: () => (image.current && natural ? cropFile(image.current, box, type) : Promise.resolve(null)),
    }),
    [box, natural, type],
  );

  // The picture fills the stage inside its border: positions are fractions of the picture's own rect.
  const pointAt = useCallback((event: React.PointerEvent): Point => {
    const rect = image.current!.getBoundingClientRect();
    return clampPoint({ x: (event.clientX - rect.left) / rect.width, y: (event.clientY - rect.top) / rect.height });
  }, []);

  const onPointerDown = (event: React.PointerEvent<HTMLDivElement>) => {
    if (drag.current || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    const start = pointAt(event);
    const grabbed = (event.target as HTMLElement).dataset.grab;
    const corner = CORNERS.find((name) => name === grabbed);
    drag.current = {
      pointerId: event.pointerId,
      mode: corner ? "span" : grabbed === "box" ? "move" : "new",
      start,
      startBox: box,
      anchor: corner ? oppositeCorner(box, corner) : start,
      moved: false,
    };
  };

  const onPointerMove = (event: React.PointerEvent<HTMLDivElement>) => {
    const current = drag.current;
    if (!current || current.pointerId !== event.pointerId) return;
    event.preventDefault();
    const point = pointAt(event);
    const rect = image.current!.getBoundingClientRect();
    const travelled = Math.hypot((point.x - current.start.x) * rect.width, (point.y - current.start.y) * rect.height);
    current.moved ||= travelled > TAP_SLOP_PX;
    if (current.mode === "move") {
      setBox(moveBox(current.startBox, point.x - current.start.x, point.y - current.start.y));
    } else if (current.mode === "span" || current.moved) {
      setBox(spanBox(current.anchor, point));
    }
  };

  const onPointerUp = (event: React.PointerEvent<HTMLDivElement>) => {
    const current = drag.current;
    if (!current || current.pointerId !== event.pointerId) return;
    drag.current = null;
    if (current.mode === "new" && !current.moved) setBox((old) => centreBoxAt(old, pointAt(event)));
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    const steps: Record<string, [number, number]> = {
      ArrowLeft: [-KEY_STEP, 0],
      ArrowRight: [KEY_STEP, 0],
      ArrowUp: [0, -KEY_STEP],
      ArrowDown: [0, KEY_STEP],
    };
    const step = steps[event.key];
    if (!step) return;
    event.preventDefault();
    setBox((old) => (event.shiftKey ? resizeBox(old, ...step) : moveBox(old, ...step)));
  };

  const shown = natural && room > 0 ? fitted(natural, room - 2 * BORDER_PX, maxHeight) : null;
  const pixels = natural ? pixelRect(box, natural.width, natural.height) : null;
  const percent = (value: number) => `${value * 100}%`;

  return (
    <div className="space-y-2" data-testid="crop">
      <div ref={frame} className="w-full">
        <div
          data-testid="crop-stage"
          className="draw-surface relative mx-auto overflow-hidden rounded-lg border-2 border-slate-300 bg-slate-100"
          style={
            shown ? { width: shown.width + 2 * BORDER_PX, height: shown.height + 2 * BORDER_PX } : { minHeight: "8rem" }
          }
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => (drag.current = null)}
          onContextMenu={(event) => event.preventDefault()}
        >
          <img
            ref={image}
            src={src}
            alt="The picture you chose"
            data-testid="picked-image"
            draggable={false}
            onLoad={(event) =>
              setNatural({ width: event.currentTarget.naturalWidth, height: event.currentTarget.naturalHeight })
            }
            onError={() => onError("This picture can't be shown in the browser. Try a PNG or JPEG image.")}
            className={`pointer-events-none block h-full w-full select-none ${shown ? "" : "invisible"}`}
          />
          {shown && (
            <div
              data-grab="box"
              data-testid="crop-box"
              tabIndex={0}
              role="group"
              aria-roledescription="crop box"
              aria-label="Box around the number: drag it, or use the arrow keys to move it and Shift with the arrow keys to resize it"
              onKeyDown={onKeyDown}
              className="absolute cursor-move outline-2 outline-white outline-dashed shadow-[0_0_0_9999px_rgb(15_23_42/0.55)] focus-visible:outline-sky-400"
              style={{ left: percent(box.x), top: percent(box.y), width: percent(box.w), height: percent(box.h) }}
            >
              {CORNERS.map((corner) => (
                <span
                  key={corner}
                  data-grab={corner}
                  data-testid={`crop-handle-${corner}`}
                  aria-hidden="true"
                  className={`absolute flex h-10 w-10 -translate-x-1/2 -translate-y-1/2 items-center justify-center ${CORNER_PLACE[corner]}`}
                >
                  <span className="pointer-events-none h-4 w-4 rounded-sm border-2 border-slate-900 bg-white" />
                </span>
              ))}
            </div>
          )}
        </div>
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2 text-sm">
        <p className="text-slate-600">
          Drag the box around the number (or draw a new one), then press <strong>Read this box</strong>.
        </p>
        <div className="flex items-center gap-2">
          {pixels && (
            <span
              data-testid="crop-size"
              data-crop={`${pixels.x},${pixels.y},${pixels.w},${pixels.h}`}
              className="tabular-nums text-slate-500"
            >
              {pixels.w} × {pixels.h} px
            </span>
          )}
          <button
            type="button"
            onClick={() => setBox(WHOLE_PICTURE)}
            className="rounded-md border border-slate-300 bg-white px-3 py-1.5 font-medium hover:bg-slate-100"
          >
            Whole picture
          </button>
        </div>
      </div>
    </div>
  );
});
