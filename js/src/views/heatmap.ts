/**
 * One view's panel: its image (or video frame) on a canvas with the item's map over the view's
 * box (raster.ts: bilinear or blocky, an alpha that follows the value so low values leave the
 * image visible), blended at the chosen opacity; optionally the original image on its own canvas
 * beside it. layout.ts sets its size; zoom.ts zooms and pans both canvases together, and every
 * change redraws at the canvas's own resolution (the visible part only, never a scaled bitmap).
 */

import type { FrameMeta, ImageMeta, ViewMeta } from "../codec";
import { packedLut } from "../colormap";
import type { LocalState } from "../state/local";
import { outlineSegments, strokeOutline } from "./diagnosis";
import { h, labelled } from "./dom";
import type { FigureView } from "./figure";
import type { ImageStore } from "./images";
import { backingSize, GAP } from "./layout";
import { HeatLayer, ImageLayer, type Paint, paintOn } from "./raster";
import { bindZoom, cellAt, clampView, FULL, toImage, type Viewport, ZoomBar } from "./zoom";

export { axis, nearestAxis } from "./raster";

const HINT = "Ctrl/⌘ + wheel or pinch: zoom · drag: pan · double-click: reset";

export class HeatmapPanel {
  readonly el: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** The image alone (shown beside the overlay when show_original is on). */
  readonly original: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D | null;
  private readonly originalCtx: CanvasRenderingContext2D | null;
  private readonly heat: HeatLayer;
  private readonly base = new ImageLayer(); // the image at the canvases' size and zoom, for both canvases
  private readonly caption: HTMLElement;
  private readonly bar: ZoomBar;
  private showOriginal = false;
  private opacity = 0.5;
  private colormap = "jet";
  private paint: Paint | null = null; // the last draw(), painted again after a zoom or a resize
  private outline: Uint8Array | null = null; // (n_v) cells outlined over the map (a diagnosis's cut)
  private zoom: Viewport = FULL;
  private css = 0; // shown width in CSS px (0: not laid out yet)
  private dpr = 1;

  constructor(
    private readonly view: ViewMeta,
    private readonly index: number,
    private readonly image: ImageMeta,
    private readonly frames: FrameMeta[],
    private readonly local: LocalState,
    private readonly images: ImageStore,
  ) {
    const first = frames[view.frames[0]];
    const [cw, ch] = backingSize(image.width, image.height, 0, 1, 1);
    const size = { width: String(cw), height: String(ch), title: HINT };
    this.canvas = h("canvas", { role: "heatmap", class: "tam-canvas", attrs: { ...size, "data-view": String(index) } });
    this.ctx = this.canvas.getContext("2d"); // null without a canvas implementation (jsdom): nothing is drawn
    this.heat = new HeatLayer(cw, ch, first.height, first.width, view.box);
    this.original = h("canvas", { role: "original", class: "tam-canvas tam-original", attrs: { ...size, hidden: "", "aria-label": "original image" } });
    this.originalCtx = this.original.getContext("2d");
    this.caption = h("span", { class: "tam-caption", text: this.captionText() });
    this.bar = new ZoomBar(() => this.zoom, (v) => this.setViewport(v));
    const foot = h("div", { class: "tam-panel-foot" }, [this.caption, this.bar.el]);
    this.el = h("figure", { class: "tam-panel", role: "panel" }, [h("div", { class: "tam-canvases" }, [this.original, this.canvas]), foot]);
    if (view.frames.length > 1) this.el.appendChild(this.frameSlider());
    for (const c of [this.canvas, this.original]) bindZoom(c, () => this.zoom, (v) => this.setViewport(v));
    this.showZoom();
  }

  /** The frame of the vision layout on show (a video view steps through its frames). */
  get frame(): FrameMeta {
    return this.frames[this.frameIndex];
  }

  /** Its index into meta.frames. */
  get frameIndex(): number {
    return this.view.frames[this.local.frames[this.index] ?? 0] ?? this.view.frames[0];
  }

  /** The image's height / width (the layout sizes panels by it). */
  get aspect(): number {
    return this.image.height / Math.max(1, this.image.width);
  }

  /** The part of the image on show. */
  get viewport(): Viewport {
    return this.zoom;
  }

  /** Colour the map (n_v values; this view's frame is sliced out) into the heat layer, then compose; a map
   * not to be drawn (`drawn` false: n/a, or no visual signal) leaves the heat layer empty: the image alone,
   * never a made-up map. `smooth`: bilinear upsampling, else one block per grid cell. */
  draw(map: Float32Array, colormap: string, opacity: number, drawn = true, smooth = true): void {
    this.opacity = opacity;
    this.colormap = colormap;
    this.paint = { map, offset: this.frame.offset, table: drawn ? packedLut(colormap) : null, smooth };
    this.heat.paint(this.paint, this.zoom);
    this.compose();
  }

  /** Show or hide the original image beside the overlay. */
  setOriginal(show: boolean): void {
    if (show === this.showOriginal) return;
    this.showOriginal = show;
    this.original.hidden = !show;
    this.fitFigure();
    this.compose();
  }

  /** Outline the flagged cells ((n_v) flags; this view's frame is sliced out) over the map, at every zoom;
   * null: none. The canvas's data-outlined lists the outlined cells (indices into n_v). */
  setOutline(flags: Uint8Array | null): void {
    if (flags === this.outline) return;
    this.outline = flags;
    const { offset, height, width } = this.frame;
    const cells: number[] = [];
    if (flags) for (let i = offset; i < offset + height * width; i++) if (flags[i]) cells.push(i);
    if (flags) this.canvas.dataset.outlined = cells.join(",");
    else delete this.canvas.dataset.outlined;
    this.compose();
  }

  /** Redraw image + heat layer (and the original when shown), e.g. for a new opacity or once the image has loaded. */
  compose(opacity = this.opacity): void {
    this.opacity = opacity;
    if (!this.ctx) return;
    const img = this.images.get(this.imageIndex());
    if (this.showOriginal && this.originalCtx) paintOn(this.originalCtx, img, null, 1, this.zoom, this.base);
    paintOn(this.ctx, img, this.heat.canvas, opacity, this.zoom, this.base);
    this.drawOutline(this.ctx, this.zoom, Math.max(1.5, 2 * this.dpr));
  }

  /** The outline (setOutline) on `ctx` for the part `view` of the image, in the frame's cell geometry. */
  private drawOutline(ctx: CanvasRenderingContext2D, view: Viewport, lineWidth: number): void {
    if (!this.outline) return;
    const { offset, height, width } = this.frame;
    const { width: w, height: hh } = ctx.canvas;
    strokeOutline(ctx, outlineSegments(this.outline, offset, height, width, this.view.box, view, w, hh), lineWidth);
  }

  /** Show `css` CSS px wide on a screen of `dpr` device pixels per CSS px. */
  resize(css: number, dpr: number): void {
    this.css = css;
    this.dpr = dpr;
    for (const c of [this.canvas, this.original]) c.style.width = `${css}px`;
    this.fitFigure();
    this.refresh();
  }

  /** Zoom / pan to `v` (clamped to the image). */
  setViewport(v: Viewport): void {
    const next = clampView(v);
    if (next.x === this.zoom.x && next.y === this.zoom.y && next.z === this.zoom.z) return;
    this.zoom = next;
    this.showZoom();
    this.refresh();
  }

  /** The grid cell [row, col] under a canvas point (fractions of its width and height), zoom included; null off the box. */
  cellAt(fx: number, fy: number): [number, number] | null {
    const [u, w] = toImage(this.zoom, fx, fy);
    return cellAt(u, w, this.frame.height, this.frame.width, this.view.box);
  }

  /** The view as drawn (same part, colours, opacity) at `scale` x its CSS size, for Save PNG. */
  figureView(scale: number): FigureView {
    const width = this.css > 0 ? this.css : this.canvas.width;
    const height = (width * this.canvas.height) / this.canvas.width;
    const out = h("canvas", { attrs: { width: String(Math.round(width * scale)), height: String(Math.round(height * scale)) } });
    const ctx = out.getContext("2d");
    if (ctx) {
      const layer = new HeatLayer(out.width, out.height, this.frame.height, this.frame.width, this.view.box);
      if (this.paint) layer.paint(this.paint, this.zoom);
      paintOn(ctx, this.images.get(this.imageIndex()), this.paint ? layer.canvas : null, this.opacity, this.zoom);
      this.drawOutline(ctx, this.zoom, Math.max(1.5, 2 * scale));
    }
    const zoomed = this.zoom.z > 1 ? ` · zoom ${this.zoom.z.toFixed(1)}×` : "";
    return { image: out, width, height, caption: this.captionText() + zoomed, colormap: this.colormap };
  }

  /** Canvas pixels for the shown size (inside the border, as laid out where known) and zoom, then the heat
   * layer and the composition again. */
  private refresh(): void {
    const shown = this.canvas.clientWidth > 0 ? this.canvas.clientWidth : this.css;
    const [w, h] = backingSize(this.image.width, this.image.height, shown, this.dpr, this.zoom.z);
    for (const c of [this.canvas, this.original]) {
      if (c.width !== w) c.width = w;
      if (c.height !== h) c.height = h;
    }
    this.heat.resize(w, h);
    if (this.paint) this.heat.paint(this.paint, this.zoom);
    this.compose();
  }

  /** The panel as wide as its canvases: a long caption wraps instead of widening it. */
  private fitFigure(): void {
    if (this.css > 0) this.el.style.width = `${this.showOriginal ? 2 * this.css + GAP : this.css}px`;
  }

  private showZoom(): void {
    this.bar.show(this.zoom);
    for (const c of [this.canvas, this.original]) c.classList.toggle("is-zoomed", this.zoom.z > 1);
  }

  /** Which PNG shows the current frame: a video's temporal group k starts at raw frame k * frames / t. */
  private imageIndex(): number {
    const k = this.local.frames[this.index] ?? 0;
    const t = this.view.frames.length;
    return this.image.first + Math.min(this.image.frames - 1, Math.floor((k * this.image.frames) / t));
  }

  private captionText(): string {
    const kind = this.view.kind === "image" || this.view.kind === "video" ? "" : ` · ${this.view.kind}`;
    const grid = this.view.grid.join("×");
    const frame = this.view.frames.length > 1 ? ` · frame ${(this.local.frames[this.index] ?? 0) + 1}/${this.view.frames.length}` : "";
    return `${this.view.kind === "video" ? "video" : "image"} ${this.view.image + 1}${kind} · ${grid} tokens${frame}`;
  }

  private frameSlider(): HTMLElement {
    const n = this.view.frames.length;
    const input = h("input", { role: "frame", attrs: { type: "range", min: "0", max: String(n - 1), step: "1", value: "0", "aria-label": "Frame" } });
    input.addEventListener("input", () => {
      this.local.setFrame(this.index, Number(input.value));
      this.caption.textContent = this.captionText();
    });
    return labelled("Frame", input);
  }
}
