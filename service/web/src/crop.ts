/**
 * The geometry of a crop box on a picture. Everything is in fractions of the picture's width
 * and height (0–1), so it does not change when the picture is shown larger or smaller; only
 * `pixelRect` turns a box into the picture's own (full-resolution) pixels.
 */

export interface Point {
  x: number;
  y: number;
}

/** A box inside the picture: its top-left corner and its size, as fractions of the picture. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type Corner = "nw" | "ne" | "sw" | "se";

/** The smallest box, in each direction (a finger can still hold it). */
export const MIN_SIZE = 0.04;
/** Where the box starts: the middle of the picture, where people aim a camera at the number. */
export const DEFAULT_BOX: Box = { x: 0.1, y: 0.25, w: 0.8, h: 0.5 };
export const WHOLE_PICTURE: Box = { x: 0, y: 0, w: 1, h: 1 };

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

export function clampPoint(point: Point): Point {
  return { x: clamp(point.x, 0, 1), y: clamp(point.y, 0, 1) };
}

/** `box` shifted by (dx, dy), stopped at the picture's edges. */
export function moveBox(box: Box, dx: number, dy: number): Box {
  return { ...box, x: clamp(box.x + dx, 0, 1 - box.w), y: clamp(box.y + dy, 0, 1 - box.h) };
}

/** One side of a spanned box: from `anchor` towards `to`, at least MIN_SIZE long, inside 0–1. */
function span(anchor: number, to: number): [number, number] {
  const [low, high] = anchor <= to ? [anchor, to] : [to, anchor];
  if (high - low >= MIN_SIZE) return [low, high - low];
  if (to >= anchor) {
    const end = Math.min(1, anchor + MIN_SIZE);
    return [end - MIN_SIZE, MIN_SIZE];
  }
  return [Math.max(0, anchor - MIN_SIZE), MIN_SIZE];
}

/** The box with opposite corners `anchor` and `point` (a drag that draws a box, or resizes one by a corner). */
export function spanBox(anchor: Point, point: Point): Box {
  const [x, w] = span(anchor.x, point.x);
  const [y, h] = span(anchor.y, point.y);
  return { x, y, w, h };
}

/** The corner of `box` opposite `corner`: it stays put while `corner` is dragged. */
export function oppositeCorner(box: Box, corner: Corner): Point {
  return {
    x: corner.endsWith("w") ? box.x + box.w : box.x,
    y: corner.startsWith("n") ? box.y + box.h : box.y,
  };
}

/** `box` moved so its centre is at `point` (a tap outside the box), stopped at the edges. */
export function centreBoxAt(box: Box, point: Point): Box {
  return moveBox({ ...box, x: 0, y: 0 }, point.x - box.w / 2, point.y - box.h / 2);
}

/** `box` grown (or shrunk) by (dw, dh) from its top-left corner, kept at least MIN_SIZE and inside. */
export function resizeBox(box: Box, dw: number, dh: number): Box {
  return {
    ...box,
    w: clamp(box.w + dw, MIN_SIZE, 1 - box.x),
    h: clamp(box.h + dh, MIN_SIZE, 1 - box.y),
  };
}

/** The box in a `width`×`height` picture's pixels: whole pixels, at least one, inside the picture. */
export function pixelRect(box: Box, width: number, height: number): Box {
  const x = clamp(Math.round(box.x * width), 0, width - 1);
  const y = clamp(Math.round(box.y * height), 0, height - 1);
  const w = clamp(Math.round((box.x + box.w) * width) - x, 1, width - x);
  const h = clamp(Math.round((box.y + box.h) * height) - y, 1, height - y);
  return { x, y, w, h };
}
