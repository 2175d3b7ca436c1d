/**
 * Zoom and pan of a panel: which part of the image is on show (a viewport, browser-only state kept
 * by the panel), the pure maths on it, and the pointer gestures that change it: Ctrl/⌘ + wheel or
 * a trackpad pinch zooms around the pointer (a plain wheel still scrolls the page), dragging pans
 * a zoomed view, a double-click resets; ZoomBar has the buttons.
 */

import { h } from "./dom";

export const MAX_ZOOM = 16;
/** One press of + or −. */
export const ZOOM_STEP = 1.5;

/** The visible part of the image in image fractions: [x, x + 1/z] × [y, y + 1/z]. */
export interface Viewport {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export const FULL: Viewport = Object.freeze({ x: 0, y: 0, z: 1 });

const finite = (v: number, or: number) => (Number.isFinite(v) ? v : or);

/** Keep the zoom in [1, MAX_ZOOM] and the visible part inside the image. */
export function clampView(v: Viewport): Viewport {
  const z = Math.min(MAX_ZOOM, Math.max(1, finite(v.z, 1)));
  const max = 1 - 1 / z;
  const c = (t: number) => Math.min(max, Math.max(0, finite(t, 0)));
  return { x: c(v.x), y: c(v.y), z };
}

/** The image point (fractions) under the canvas point (fx, fy) (fractions of the canvas). */
export function toImage(v: Viewport, fx: number, fy: number): [number, number] {
  return [v.x + fx / v.z, v.y + fy / v.z];
}

/** Zoom by `factor` around the canvas point (fx, fy): the image point there stays under it (unless an edge stops it). */
export function zoomAt(v: Viewport, factor: number, fx = 0.5, fy = 0.5): Viewport {
  const [u, w] = toImage(v, fx, fy);
  const z = Math.min(MAX_ZOOM, Math.max(1, v.z * finite(factor, 1)));
  return clampView({ x: u - fx / z, y: w - fy / z, z });
}

/** Move the image with the pointer by (dx, dy) canvas fractions; it stops at the image's edges. */
export function panBy(v: Viewport, dx: number, dy: number): Viewport {
  return clampView({ x: v.x - dx / v.z, y: v.y - dy / v.z, z: v.z });
}

/** The grid cell [row, col] at image point (u, w) for a rows×cols grid over box [x0, y0, x1, y1]; null outside it. */
export function cellAt(u: number, w: number, rows: number, cols: number, box: readonly number[]): [number, number] | null {
  const [x0, y0, x1, y1] = box.length === 4 ? box : [0, 0, 1, 1];
  if (!(u >= x0 && u < x1 && w >= y0 && w < y1)) return null;
  return [Math.floor(((w - y0) / (y1 - y0)) * rows), Math.floor(((u - x0) / (x1 - x0)) * cols)];
}

/** A wheel event's vertical distance in pixels (lines and pages converted). */
function wheelPixels(e: WheelEvent): number {
  return e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
}

/** The event's point in fractions of the element's content box (a border does not count). */
function fractions(el: HTMLElement, e: MouseEvent): [number, number] {
  return [e.offsetX / Math.max(1, el.clientWidth), e.offsetY / Math.max(1, el.clientHeight)];
}

/** Wire the gestures on `el`: `get` reads the viewport, `set` applies a new one. Returns the unbinding. */
export function bindZoom(el: HTMLElement, get: () => Viewport, set: (v: Viewport) => void): () => void {
  let drag: { id: number; x: number; y: number } | null = null;
  const on: Record<string, (e: Event) => void> = {
    wheel: (e) => {
      const w = e as WheelEvent;
      if (!w.ctrlKey && !w.metaKey) return; // a plain wheel scrolls the page
      w.preventDefault();
      set(zoomAt(get(), Math.exp(-wheelPixels(w) * 0.0025), ...fractions(el, w)));
    },
    pointerdown: (e) => {
      const p = e as PointerEvent;
      if (p.button !== 0 || get().z <= 1) return;
      drag = { id: p.pointerId, x: p.clientX, y: p.clientY };
      el.setPointerCapture?.(p.pointerId);
      el.classList.add("is-dragging");
    },
    pointermove: (e) => {
      const p = e as PointerEvent;
      if (!drag || p.pointerId !== drag.id) return;
      const dx = (p.clientX - drag.x) / Math.max(1, el.clientWidth);
      const dy = (p.clientY - drag.y) / Math.max(1, el.clientHeight);
      drag = { ...drag, x: p.clientX, y: p.clientY };
      set(panBy(get(), dx, dy));
    },
    pointerup: () => {
      drag = null;
      el.classList.remove("is-dragging");
    },
    dblclick: () => set(FULL),
  };
  on.pointercancel = on.pointerup;
  for (const [type, fn] of Object.entries(on)) el.addEventListener(type, fn, { passive: type !== "wheel" });
  return () => {
    for (const [type, fn] of Object.entries(on)) el.removeEventListener(type, fn);
  };
}

/** A panel's − / + / reset buttons and its zoom level. */
export class ZoomBar {
  readonly el: HTMLElement;
  private readonly level = h("span", { class: "tam-zoom-level", role: "zoom-level" });
  private readonly reset: HTMLButtonElement;

  constructor(get: () => Viewport, set: (v: Viewport) => void) {
    this.reset = button("zoom-reset", "reset", "Reset zoom", () => set(FULL));
    this.el = h("div", { class: "tam-zoom", role: "zoom" }, [
      button("zoom-out", "−", "Zoom out", () => set(zoomAt(get(), 1 / ZOOM_STEP))),
      button("zoom-in", "+", "Zoom in", () => set(zoomAt(get(), ZOOM_STEP))),
      this.reset,
      this.level,
    ]);
  }

  show(v: Viewport): void {
    this.level.textContent = v.z > 1 ? `${v.z.toFixed(1)}×` : "";
    this.reset.disabled = v.z <= 1;
  }
}

function button(role: string, text: string, label: string, fn: () => void): HTMLButtonElement {
  const b = h("button", { role, class: "tam-zoom-button", text, attrs: { type: "button", title: label, "aria-label": label } });
  b.addEventListener("click", fn);
  return b;
}
