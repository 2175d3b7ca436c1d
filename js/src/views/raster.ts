/**
 * The heat layer: a view's map coloured into pixels, upsampled from the grid bilinearly (smooth) or
 * as one block per vision token, over the view's box, for the part of the image on show (the
 * viewport of zoom.ts). Drawn at the layer canvas's own size, so a zoomed view is rasterised anew
 * at full resolution, never a scaled-up bitmap. paintOn() puts the visible part of the image and the
 * layer together on a panel's canvas; an ImageLayer keeps that part of the image resampled between draws.
 */

import { h } from "./dom";
import type { Drawable } from "./images";
import { FULL, type Viewport } from "./zoom";

/** For each output pixel along one axis: the two grid cells around it and the weight of the second. */
export interface Axis {
  start: number; // first and one-past-last pixel the box covers
  end: number;
  i0: Int32Array;
  i1: Int32Array;
  t: Float32Array;
}

/**
 * Sample centres of `size` pixels over the image fractions [from, from + span] (the whole image by
 * default), mapped into `cells` grid cells spread over [lo, hi].
 */
export function axis(size: number, cells: number, lo: number, hi: number, from = 0, span = 1): Axis {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const t = new Float32Array(size);
  let start = size;
  let end = 0;
  for (let p = 0; p < size; p++) {
    const u = from + ((p + 0.5) / size) * span;
    if (u < lo || u >= hi || hi <= lo) continue;
    start = Math.min(start, p);
    end = p + 1;
    const g = Math.min(cells - 1, Math.max(0, ((u - lo) / (hi - lo)) * cells - 0.5));
    i0[p] = Math.floor(g);
    i1[p] = Math.min(cells - 1, i0[p] + 1);
    t[p] = g - i0[p];
  }
  return { start, end: Math.max(start, end), i0, i1, t };
}

/** Like axis(), but each pixel takes the one grid cell it lies in (t = 0): blocky cells. */
export function nearestAxis(size: number, cells: number, lo: number, hi: number, from = 0, span = 1): Axis {
  const a = axis(size, cells, lo, hi, from, span);
  for (let p = a.start; p < a.end; p++) {
    const u = from + ((p + 0.5) / size) * span;
    const c = Math.min(cells - 1, Math.max(0, Math.floor(((u - lo) / (hi - lo)) * cells)));
    a.i0[p] = a.i1[p] = c;
    a.t[p] = 0;
  }
  return a;
}

/** What the layer shows: a map (n_v values) from `offset` on, coloured by `table`; null table: clear. */
export interface Paint {
  map: Float32Array;
  offset: number;
  table: Uint32Array | null;
  smooth: boolean;
}

/** One grid (rows x cols) over a box of the image ([x0, y0, x1, y1] in image fractions). */
export class HeatLayer {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D | null;
  private pixels: ImageData | null = null;
  private words: Uint32Array | null = null; // the pixels as packed RGBA
  private axes: { key: string; xs: Axis; ys: Axis } | null = null;
  private readonly row: Float32Array; // one grid row interpolated between two grid rows

  constructor(
    width: number,
    height: number,
    private readonly rows: number,
    private readonly cols: number,
    private readonly box: readonly number[],
  ) {
    this.canvas = h("canvas", { attrs: { width: String(width), height: String(height) } });
    this.ctx = this.canvas.getContext("2d"); // null without a canvas implementation (jsdom): nothing is drawn
    this.row = new Float32Array(cols);
  }

  /** Colour the visible part `view` of the map into the layer at its current size. */
  paint(p: Paint, view: Viewport = FULL): void {
    if (!this.ctx) return;
    const { width, height } = this.canvas;
    if (!this.pixels || this.pixels.width !== width || this.pixels.height !== height) {
      this.pixels = this.ctx.createImageData(width, height);
      const data = this.pixels.data;
      this.words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
    }
    const words = this.words as Uint32Array;
    if (p.table) this.raster(p, p.table, words, view);
    else words.fill(0); // transparent
    this.ctx.putImageData(this.pixels, 0, 0);
  }

  /** New pixel size (the next paint() fills it). */
  resize(width: number, height: number): void {
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
  }

  /** Rows: interpolate two grid rows once; columns: interpolate within that row, then one table lookup. */
  private raster(p: Paint, table: Uint32Array, out: Uint32Array, view: Viewport): void {
    const { row, cols: w } = this;
    const { map, offset } = p;
    const [xs, ys] = this.axesFor(p.smooth, view);
    const { i0, i1, t } = xs;
    const width = this.canvas.width;
    out.fill(0, 0, ys.start * width); // outside the box: transparent
    out.fill(0, ys.end * width);
    for (let y = ys.start; y < ys.end; y++) {
      const a = offset + ys.i0[y] * w;
      const b = offset + ys.i1[y] * w;
      const ty = ys.t[y];
      if (y > ys.start && ys.i0[y] === ys.i0[y - 1] && ys.i1[y] === ys.i1[y - 1] && ty === ys.t[y - 1]) {
        out.copyWithin(y * width, (y - 1) * width, y * width); // the same grid rows and weight: the same pixels (blocky)
        continue;
      }
      for (let j = 0; j < w; j++) row[j] = map[a + j] + ty * (map[b + j] - map[a + j]);
      const base = y * width;
      out.fill(0, base, base + xs.start);
      out.fill(0, base + xs.end, base + width);
      for (let x = xs.start; x < xs.end; ) {
        // one run of pixels between the same two grid cells: their values and difference read once
        const c = i0[x];
        const r0 = row[c];
        const d = row[i1[x]] - r0;
        for (; x < xs.end && i0[x] === c; x++) {
          const v = r0 + t[x] * d;
          out[base + x] = table[v > 0 ? (v < 1 ? (v * 255) | 0 : 255) : 0];
        }
      }
    }
  }

  /** The sampling of both axes for this size, viewport and mode, computed once per change. */
  private axesFor(smooth: boolean, v: Viewport): [Axis, Axis] {
    const { width, height } = this.canvas;
    const key = `${width} ${height} ${v.x} ${v.y} ${v.z} ${smooth}`;
    if (this.axes?.key !== key) {
      const [x0, y0, x1, y1] = this.box.length === 4 ? this.box : [0, 0, 1, 1];
      const f = smooth ? axis : nearestAxis;
      this.axes = { key, xs: f(width, this.cols, x0, x1, v.x, 1 / v.z), ys: f(height, this.rows, y0, y1, v.y, 1 / v.z) };
    }
    return [this.axes.xs, this.axes.ys];
  }
}

/**
 * The visible part of an image resampled to a canvas's size once, and reused while the image, the size
 * and the viewport stay: a settings step (a slider drag) recolours only the heat layer, and resampling
 * the picture again cost ~4-5 ms a panel a frame where the browser draws in software (a copy: ~0.2 ms).
 */
export class ImageLayer {
  private canvas: HTMLCanvasElement | null = null; // made at the first use
  private ctx: CanvasRenderingContext2D | null = null;
  private drawn: { img: Drawable | null; v: Viewport } | null = null; // what the canvas holds (null: nothing yet)

  /** The part `v` of `img` (grey while it loads) at width x height pixels, drawn again only when one of them changed. */
  at(img: Drawable | null, width: number, height: number, v: Viewport): HTMLCanvasElement {
    const canvas = (this.canvas ??= h("canvas", { attrs: { width: String(width), height: String(height) } }));
    this.ctx ??= canvas.getContext("2d"); // null without a canvas implementation (jsdom): nothing is drawn
    const { drawn } = this;
    const same = drawn && drawn.img === img && drawn.v.x === v.x && drawn.v.y === v.y && drawn.v.z === v.z;
    if (same && canvas.width === width && canvas.height === height) return canvas;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    if (this.ctx) drawImageAt(this.ctx, img, v);
    this.drawn = { img, v };
    return canvas;
  }
}

/** The visible part `v` of `img` (or grey while it loads) over the whole canvas of `ctx`, resampled at high quality. */
function drawImageAt(ctx: CanvasRenderingContext2D, img: Drawable | null, v: Viewport): void {
  const { width, height } = ctx.canvas;
  ctx.globalAlpha = 1;
  ctx.clearRect(0, 0, width, height);
  if (img) {
    const iw = "naturalWidth" in img ? img.naturalWidth : img.width;
    const ih = "naturalHeight" in img ? img.naturalHeight : img.height;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(img, v.x * iw, v.y * ih, iw / v.z, ih / v.z, 0, 0, width, height);
  } else {
    ctx.fillStyle = "#808080";
    ctx.fillRect(0, 0, width, height);
  }
}

/** The visible part of `img` (or grey while it loads), then the heat layer at `opacity`; `cache`: the image
 * resampled through it (ImageLayer), copied pixel for pixel, the same picture. */
export function paintOn(ctx: CanvasRenderingContext2D, img: Drawable | null, heat: HTMLCanvasElement | null, opacity: number, v: Viewport, cache?: ImageLayer): void {
  const { width, height } = ctx.canvas;
  if (cache) {
    ctx.globalAlpha = 1;
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(cache.at(img, width, height, v), 0, 0);
  } else drawImageAt(ctx, img, v);
  if (!heat) return;
  ctx.globalAlpha = opacity;
  ctx.drawImage(heat, 0, 0);
  ctx.globalAlpha = 1;
}
