/**
 * The drawing surface: dark ink on an opaque white background, drawn with pointer events so
 * a mouse, a pen and a finger all work (`touch-action: none` keeps touch from scrolling).
 *
 * Strokes are kept as point lists in CSS pixels, so undo and a resize simply redraw them.
 * The parent gets an imperative handle to export the drawing as a PNG blob.
 */
import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState } from "react";

export interface Point {
  x: number;
  y: number;
  pressure: number;
}

export interface Stroke {
  width: number;
  points: Point[];
}

export interface DrawCanvasHandle {
  /** The drawing as a PNG blob (white background), or null when nothing is drawn. */
  toBlob(): Promise<Blob | null>;
  clear(): void;
  undo(): void;
}

interface DrawCanvasProps {
  strokeWidth: number;
  onChange(strokeCount: number): void;
}

const INK = "#111827";
const PAPER = "#ffffff";

function drawStroke(context: CanvasRenderingContext2D, stroke: Stroke): void {
  const { points, width } = stroke;
  if (points.length === 0) return;
  context.strokeStyle = INK;
  context.fillStyle = INK;
  context.lineCap = "round";
  context.lineJoin = "round";
  if (points.length === 1) {
    context.beginPath();
    context.arc(points[0].x, points[0].y, width / 2, 0, Math.PI * 2);
    context.fill();
    return;
  }
  for (let index = 1; index < points.length; index += 1) {
    const from = points[index - 1];
    const to = points[index];
    context.lineWidth = width * (0.6 + 0.4 * to.pressure);
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }
}

/** A pen reports real pressure; a mouse reports 0.5 while pressed and touch often 0 or 1: use full width then. */
function pressureOf(event: PointerEvent | React.PointerEvent): number {
  if (event.pointerType !== "pen") return 1;
  return event.pressure > 0 ? event.pressure : 0.5;
}

export const DrawCanvas = forwardRef<DrawCanvasHandle, DrawCanvasProps>(function DrawCanvas(
  { strokeWidth, onChange },
  handle,
) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const strokes = useRef<Stroke[]>([]);
  const active = useRef<{ pointerId: number; stroke: Stroke } | null>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });

  const redraw = useCallback(() => {
    const canvas = canvasRef.current;
    const context = canvas?.getContext("2d");
    if (!canvas || !context) return;
    const scale = canvas.width / Math.max(1, canvas.clientWidth);
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = PAPER;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.setTransform(scale, 0, 0, scale, 0, 0);
    for (const stroke of strokes.current) drawStroke(context, stroke);
    if (active.current) drawStroke(context, active.current.stroke);
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const observer = new ResizeObserver(() => {
      setSize({ width: canvas.clientWidth, height: canvas.clientHeight });
    });
    observer.observe(canvas);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || size.width === 0) return;
    const ratio = Math.min(2, window.devicePixelRatio || 1);
    canvas.width = Math.round(size.width * ratio);
    canvas.height = Math.round(size.height * ratio);
    redraw();
  }, [size, redraw]);

  useImperativeHandle(
    handle,
    () => ({
      toBlob: () =>
        new Promise<Blob | null>((resolve) => {
          const canvas = canvasRef.current;
          if (!canvas || strokes.current.length === 0) {
            resolve(null);
            return;
          }
          canvas.toBlob(resolve, "image/png");
        }),
      clear: () => {
        strokes.current = [];
        active.current = null;
        redraw();
        onChange(0);
      },
      undo: () => {
        strokes.current = strokes.current.slice(0, -1);
        redraw();
        onChange(strokes.current.length);
      },
    }),
    [redraw, onChange],
  );

  const pointAt = (event: PointerEvent | React.PointerEvent): Point => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top, pressure: pressureOf(event) };
  };

  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    if (active.current || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    active.current = { pointerId: event.pointerId, stroke: { width: strokeWidth, points: [pointAt(event)] } };
    redraw();
  };

  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const current = active.current;
    if (!current || current.pointerId !== event.pointerId) return;
    event.preventDefault();
    const native = event.nativeEvent;
    const samples = typeof native.getCoalescedEvents === "function" ? native.getCoalescedEvents() : [];
    for (const sample of samples.length ? samples : [native]) current.stroke.points.push(pointAt(sample));
    redraw();
  };

  const finish = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const current = active.current;
    if (!current || current.pointerId !== event.pointerId) return;
    active.current = null;
    strokes.current = [...strokes.current, current.stroke];
    redraw();
    onChange(strokes.current.length);
  };

  return (
    <canvas
      ref={canvasRef}
      data-testid="draw-canvas"
      aria-label="Drawing area: write a number here with a mouse, pen or finger"
      role="img"
      className="draw-surface block h-56 w-full cursor-crosshair rounded-lg border-2 border-slate-300 bg-white sm:h-64"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={finish}
      onPointerCancel={finish}
      onContextMenu={(event) => event.preventDefault()}
    />
  );
});
