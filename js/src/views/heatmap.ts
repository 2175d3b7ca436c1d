/**
 * One view's panel: its image (or video frame) on a canvas with the item's map over the view's
 * box, upsampled from the grid bilinearly (smooth) or as one block per vision token, coloured with
 * an alpha that follows the value (colormap.ts alpha(): low values clear, so the image shows) and
 * blended at the chosen opacity; optionally the original image on its own canvas beside it.
 */

import type { FrameMeta, ImageMeta, ViewMeta } from "../codec";
import { packedLut } from "../colormap";
import type { LocalState } from "../state/local";
import { h, labelled } from "./dom";
import type { ImageStore } from "./images";

const MIN_SIDE = 256; // canvas pixels on the long side: small inputs are drawn larger,
const MAX_SIDE = 512; // large ones smaller (CSS scales the canvas to the page)

/** For each output pixel along one axis: the two grid cells around it and the weight of the second. */
interface Axis {
  start: number; // first and one-past-last pixel the box covers
  end: number;
  i0: Int32Array;
  i1: Int32Array;
  t: Float32Array;
}

/** Sample centres of `size` pixels over [0, 1], mapped into `cells` grid cells spread over [lo, hi]. */
export function axis(size: number, cells: number, lo: number, hi: number): Axis {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const t = new Float32Array(size);
  let start = size;
  let end = 0;
  for (let p = 0; p < size; p++) {
    const u = (p + 0.5) / size;
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
export function nearestAxis(size: number, cells: number, lo: number, hi: number): Axis {
  const a = axis(size, cells, lo, hi);
  for (let p = a.start; p < a.end; p++) {
    const u = (p + 0.5) / size;
    const c = Math.min(cells - 1, Math.max(0, Math.floor(((u - lo) / (hi - lo)) * cells)));
    a.i0[p] = a.i1[p] = c;
    a.t[p] = 0;
  }
  return a;
}

export class HeatmapPanel {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** The image alone (shown beside the overlay when show_original is on). */
  readonly original: HTMLCanvasElement;
  private readonly originalCtx: CanvasRenderingContext2D | null;
  private showOriginal = false;
  private readonly ctx: CanvasRenderingContext2D | null;
  private readonly heat: HTMLCanvasElement;
  private readonly heatCtx: CanvasRenderingContext2D | null;
  private pixels: ImageData | null = null;
  private words: Uint32Array | null = null; // the pixels as packed RGBA
  private readonly smoothAxes: [Axis, Axis]; // x, y
  private readonly blockAxes: [Axis, Axis];
  private readonly row: Float32Array; // one grid row interpolated between two grid rows
  private readonly h: number;
  private readonly w: number;
  private opacity = 0.5;

  constructor(
    private readonly view: ViewMeta,
    private readonly index: number,
    private readonly image: ImageMeta,
    private readonly frames: FrameMeta[],
    private readonly local: LocalState,
    private readonly images: ImageStore,
  ) {
    const first = frames[view.frames[0]];
    this.h = first.height;
    this.w = first.width;
    const scale = Math.min(MAX_SIDE, Math.max(MIN_SIDE, image.width, image.height)) / Math.max(image.width, image.height, 1);
    const cw = Math.max(1, Math.round(image.width * scale));
    const ch = Math.max(1, Math.round(image.height * scale));
    this.canvas = h("canvas", { role: "heatmap", class: "tam-canvas", attrs: { width: String(cw), height: String(ch), "data-view": String(index) } });
    this.heat = h("canvas", { attrs: { width: String(cw), height: String(ch) } });
    this.ctx = this.canvas.getContext("2d"); // null without a canvas implementation (jsdom): nothing is drawn
    this.heatCtx = this.heat.getContext("2d");
    const [x0, y0, x1, y1] = view.box.length === 4 ? view.box : [0, 0, 1, 1];
    this.smoothAxes = [axis(cw, this.w, x0, x1), axis(ch, this.h, y0, y1)];
    this.blockAxes = [nearestAxis(cw, this.w, x0, x1), nearestAxis(ch, this.h, y0, y1)];
    this.row = new Float32Array(this.w);
    this.original = h("canvas", { role: "original", class: "tam-canvas tam-original", attrs: { width: String(cw), height: String(ch), hidden: "", "aria-label": "original image" } });
    this.originalCtx = this.original.getContext("2d");
    const caption = h("figcaption", { class: "tam-caption", text: this.caption() });
    this.el = h("figure", { class: "tam-panel", role: "panel" }, [h("div", { class: "tam-canvases" }, [this.original, this.canvas]), caption]);
    if (view.frames.length > 1) this.el.appendChild(this.frameSlider(caption));
  }

  /** The frame of the vision layout on show (a video view steps through its frames). */
  get frame(): FrameMeta {
    return this.frames[this.view.frames[this.local.frames[this.index] ?? 0] ?? this.view.frames[0]];
  }

  /** Colour the map (n_v values; this view's frame is sliced out) into the heat layer, then compose; a map
   * not to be drawn (`drawn` false: n/a, or no visual signal) leaves the heat layer empty: the image alone,
   * never a made-up map. `smooth`: bilinear upsampling, else one block per grid cell. */
  draw(map: Float32Array, colormap: string, opacity: number, drawn = true, smooth = true): void {
    this.opacity = opacity;
    if (!this.ctx || !this.heatCtx) return;
    if (!this.pixels || !this.words) {
      this.pixels = this.heatCtx.createImageData(this.heat.width, this.heat.height);
      const data = this.pixels.data;
      this.words = new Uint32Array(data.buffer, data.byteOffset, data.byteLength >> 2);
    }
    if (drawn) this.raster(map, packedLut(colormap), this.words, this.frame.offset, smooth ? this.smoothAxes : this.blockAxes);
    else this.words.fill(0); // transparent
    this.heatCtx.putImageData(this.pixels, 0, 0);
    this.compose();
  }

  /** Show or hide the original image beside the overlay. */
  setOriginal(show: boolean): void {
    if (show === this.showOriginal) return;
    this.showOriginal = show;
    this.original.hidden = !show;
    this.compose();
  }

  /** Redraw image + heat layer (and the original when shown), e.g. for a new opacity or once the image has loaded. */
  compose(opacity = this.opacity): void {
    this.opacity = opacity;
    const ctx = this.ctx;
    if (!ctx) return;
    const img = this.images.get(this.imageIndex());
    const background = (c: CanvasRenderingContext2D) => {
      const { width, height } = c.canvas;
      c.globalAlpha = 1;
      c.clearRect(0, 0, width, height);
      if (img) c.drawImage(img, 0, 0, width, height);
      else {
        c.fillStyle = "#808080";
        c.fillRect(0, 0, width, height);
      }
    };
    if (this.showOriginal && this.originalCtx) background(this.originalCtx);
    background(ctx);
    ctx.globalAlpha = opacity;
    ctx.drawImage(this.heat, 0, 0);
    ctx.globalAlpha = 1;
  }

  /** Rows: interpolate two grid rows once; columns: interpolate within that row, then one table lookup. */
  private raster(map: Float32Array, table: Uint32Array, out: Uint32Array, offset: number, [xs, ys]: [Axis, Axis]): void {
    const { row, w } = this;
    const width = this.heat.width;
    const { i0, i1, t } = xs;
    for (let y = ys.start; y < ys.end; y++) {
      const a = offset + ys.i0[y] * w;
      const b = offset + ys.i1[y] * w;
      const ty = ys.t[y];
      for (let j = 0; j < w; j++) row[j] = map[a + j] + ty * (map[b + j] - map[a + j]);
      const base = y * width;
      for (let x = xs.start; x < xs.end; x++) {
        const r0 = row[i0[x]];
        const v = r0 + t[x] * (row[i1[x]] - r0);
        out[base + x] = table[v > 0 ? (v < 1 ? (v * 255) | 0 : 255) : 0];
      }
    }
  }

  /** Which PNG shows the current frame: a video's temporal group k starts at raw frame k * frames / t. */
  private imageIndex(): number {
    const k = this.local.frames[this.index] ?? 0;
    const t = this.view.frames.length;
    return this.image.first + Math.min(this.image.frames - 1, Math.floor((k * this.image.frames) / t));
  }

  private caption(): string {
    const kind = this.view.kind === "image" || this.view.kind === "video" ? "" : ` · ${this.view.kind}`;
    const grid = this.view.grid.join("×");
    const frame = this.view.frames.length > 1 ? ` · frame ${(this.local.frames[this.index] ?? 0) + 1}/${this.view.frames.length}` : "";
    return `${this.view.kind === "video" ? "video" : "image"} ${this.view.image + 1}${kind} · ${grid} tokens${frame}`;
  }

  private frameSlider(caption: HTMLElement): HTMLElement {
    const n = this.view.frames.length;
    const input = h("input", { role: "frame", attrs: { type: "range", min: "0", max: String(n - 1), step: "1", value: "0", "aria-label": "Frame" } });
    input.addEventListener("input", () => {
      this.local.setFrame(this.index, Number(input.value));
      caption.textContent = this.caption();
    });
    return labelled("Frame", input);
  }
}
