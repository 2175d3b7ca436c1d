/**
 * Save PNG's figure, as Python's exp.figure (tam_widget/display/figure.py) draws it: a title with the
 * token in context (the token bold and underlined) and the method's label, each view as drawn (same
 * part, colours and opacity) with its caption, and a colour bar from 0 to 1 with the colour map's
 * name. figureLayout() places everything in CSS px (pure); compose() draws it at `scale` device
 * pixels per CSS px (2: crisp on slides).
 */

import { DIVERGING, lut } from "../colormap";

/** One view as drawn: `image` holds scale x (width, height) pixels; width and height in CSS px. */
export interface FigureView {
  image: CanvasImageSource;
  width: number;
  height: number;
  caption: string;
  colormap: string;
}

/** The token in context: the items before and after it; lead / trail: more text beyond them (…). */
export interface Title {
  before: string[];
  token: string;
  after: string[];
  lead: boolean;
  trail: boolean;
}

export interface FigureSpec {
  title: Title;
  label: string; // the method, e.g. "TAM (ECI + filter)"
  views: FigureView[];
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FigureLayout {
  width: number;
  height: number;
  title: Title; // shortened to fit the width
  views: Box[];
  bar: Box;
}

/** Text width in CSS px for a canvas font. */
export type Measure = (text: string, font: string) => number;

const FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const FONTS = { title: `16px ${FAMILY}`, token: `700 16px ${FAMILY}`, label: `12px ${FAMILY}`, small: `11px ${FAMILY}` };
const PAD = 16;
const HEADER = 64; // title line, label line, space below
const GAP = 12; // between views
const CAPTION = 18; // a view's caption line
const BAR = { gap: 20, width: 14, labels: 36, min: 120 };
const MIN_WIDTH = 360;
const MAX_ROW = 1200; // views wrap to a new row past this width
export const TICKS = [0, 0.25, 0.5, 0.75, 1];
const INK = "#1f2328";
const MUTED = "#57606a";
const LINE = "#d0d7de";
const ACCENT = "#0969da";

/** The title's pieces in reading order, each with its font. */
export function titleRuns(t: Title): [string, string][] {
  const runs: [string, string][] = [[`${t.lead ? "…" : ""}${t.before.join("")}`, FONTS.title], [t.token, FONTS.token], [`${t.after.join("")}${t.trail ? "…" : ""}`, FONTS.title]];
  return runs.filter(([text]) => text !== "");
}

/** Drop context from the far ends until the title fits `width`. */
export function fitTitle(t: Title, width: number, measure: Measure): Title {
  const out = { ...t, before: [...t.before], after: [...t.after] };
  const size = () => titleRuns(out).reduce((s, [text, font]) => s + measure(text, font), 0);
  while (size() > width && out.before.length + out.after.length > 0) {
    if (out.before.length >= out.after.length) {
      out.before.shift();
      out.lead = true;
    } else {
      out.after.pop();
      out.trail = true;
    }
  }
  return out;
}

/** Views left to right, wrapping past MAX_ROW; the colour bar beside the first row. */
export function figureLayout(spec: FigureSpec, measure: Measure): FigureLayout {
  const views: Box[] = [];
  let x = 0;
  let y = HEADER;
  let row = 0; // this row's tallest view
  const limit = Math.max(MAX_ROW, ...spec.views.map((v) => v.width));
  for (const v of spec.views) {
    if (x > 0 && x + v.width > limit) [x, y, row] = [0, y + row + CAPTION + GAP, 0];
    views.push({ x: PAD + x, y, width: v.width, height: v.height });
    x += v.width + GAP;
    row = Math.max(row, v.height);
  }
  const right = Math.max(0, ...views.map((b) => b.x + b.width));
  const first = Math.max(BAR.min, ...views.filter((b) => b.y === HEADER).map((b) => b.height));
  const bar = { x: right + BAR.gap, y: HEADER, width: BAR.width, height: first };
  const width = Math.ceil(Math.max(MIN_WIDTH, bar.x + BAR.width + BAR.labels + PAD));
  const bottom = Math.max(bar.y + bar.height + CAPTION, ...views.map((b) => b.y + b.height + CAPTION));
  return { width, height: Math.ceil(bottom + PAD), title: fitTitle(spec.title, width - 2 * PAD, measure), views, bar };
}

/** The figure on a new canvas of scale x its CSS size; null where there is nothing to draw or no 2D context. */
export function compose(spec: FigureSpec, scale = 2): { canvas: HTMLCanvasElement; layout: FigureLayout } | null {
  if (spec.views.length === 0) return null;
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  const layout = figureLayout(spec, (text, font) => ((ctx.font = font), ctx.measureText(text).width));
  canvas.width = Math.round(layout.width * scale);
  canvas.height = Math.round(layout.height * scale);
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, layout.width, layout.height);
  drawTitle(ctx, layout.title, spec.label);
  spec.views.forEach((v, i) => drawView(ctx, v, layout.views[i]));
  drawBar(ctx, layout.bar, spec.views[0].colormap, scale);
  return { canvas, layout };
}

function text(ctx: CanvasRenderingContext2D, s: string, x: number, y: number, font: string, color: string): number {
  ctx.font = font;
  ctx.fillStyle = color;
  ctx.textBaseline = "alphabetic";
  ctx.fillText(s, x, y);
  return ctx.measureText(s).width;
}

function drawTitle(ctx: CanvasRenderingContext2D, title: Title, label: string): void {
  let x = PAD;
  for (const [s, font] of titleRuns(title)) {
    const w = text(ctx, s, x, PAD + 16, font, INK);
    if (font === FONTS.token) {
      ctx.fillStyle = ACCENT;
      ctx.fillRect(x, PAD + 19, w, 2);
    }
    x += w;
  }
  text(ctx, label, PAD, PAD + 36, FONTS.label, MUTED);
}

function drawView(ctx: CanvasRenderingContext2D, v: FigureView, b: Box): void {
  ctx.drawImage(v.image, b.x, b.y, b.width, b.height);
  ctx.strokeStyle = LINE;
  ctx.lineWidth = 1;
  ctx.strokeRect(b.x - 0.5, b.y - 0.5, b.width + 1, b.height + 1);
  text(ctx, v.caption, b.x, b.y + b.height + 13, FONTS.small, MUTED);
}

/** The colour bar, one device row per table colour step (exact table colours), 1 at the top; ticks and the
 * map's name. The diverging table (a contrast, signed) is labelled from -1 to 1. */
function drawBar(ctx: CanvasRenderingContext2D, b: Box, colormap: string, scale: number): void {
  const table = lut(colormap);
  const signed = colormap === DIVERGING;
  const rows = Math.round(b.height * scale);
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  for (let r = 0; r < rows; r++) {
    const i = Math.min(255, Math.max(0, Math.floor((1 - (r + 0.5) / rows) * 256)));
    ctx.fillStyle = `rgb(${table[3 * i]}, ${table[3 * i + 1]}, ${table[3 * i + 2]})`;
    ctx.fillRect(Math.round(b.x * scale), Math.round(b.y * scale) + r, Math.round(b.width * scale), 1);
  }
  ctx.restore();
  ctx.strokeStyle = LINE;
  ctx.strokeRect(b.x - 0.5, b.y - 0.5, b.width + 1, b.height + 1);
  for (const t of TICKS) {
    const y = b.y + (1 - t) * b.height;
    ctx.fillStyle = INK;
    ctx.fillRect(b.x + b.width, y - 0.5, 4, 1);
    ctx.textBaseline = "middle";
    ctx.font = FONTS.small;
    ctx.fillText(String(signed ? 2 * t - 1 : t), b.x + b.width + 6, y);
  }
  text(ctx, signed ? "contrast" : colormap, b.x, b.y + b.height + 14, FONTS.small, MUTED);
}
