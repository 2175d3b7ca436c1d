/**
 * A hallucination diagnosis over the EAGLE view (meta.diagnosis, tam_widget/display/wire.py
 * diagnosis_meta; only on pages made by Diagnosis.widget / save_html): the banner that says what the
 * model said, what is correct and which cut of the image corrects it; which vision cells the cut
 * removes (outlined on the image panel, heatmap.ts); and the cut's place on the curves (curves.ts).
 * Words reach the page through textContent only.
 */

import type { Viewport } from "./zoom";
import { h } from "./dom";

/** meta.diagnosis as Python sends it. */
export interface DiagnosisMeta {
  item: number; // the wrong word's item
  wrong: string;
  correct: string;
  r: number | string; // the share of the image the cut removes ("NaN" etc. as strict JSON)
  k: number | null; // the regions kept; null: nothing corrects it
  n_regions: number;
  revised: string; // the answer on the corrected image ("" when nothing corrects it)
  removed: number[]; // (n_v): the share of each vision cell's pixels the cut removes
  score_curve: { removed: number[]; p: (number | string)[]; says: boolean[] };
}

/** A cell is outlined when the cut removes at least this share of its pixels. */
export const OUTLINE_SHARE = 0.5;

/** `x` as a percentage with one decimal, as Python's f"{x:.1%}". */
export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** The banner's sentence. */
export function bannerText(d: DiagnosisMeta): string {
  const head = `Said '${d.wrong}' where '${d.correct}' is correct`;
  const r = Number(d.r);
  if (d.k === null) return `${head}: nothing corrects it (no part of the image kept alone makes the model say '${d.correct}').`;
  if (r === 0 || d.k >= d.n_regions) return `${head}: already correct, the full image gives '${d.correct}' → '${d.revised}'`;
  const removed = d.n_regions - d.k;
  return `${head}: removing the outlined ${percent(r)} of the image (${removed} of ${d.n_regions} regions) corrects it → '${d.revised}'`;
}

/** (n_v) flags: the cells whose removed share is at least OUTLINE_SHARE. */
export function outlinedCells(removed: readonly number[], share = OUTLINE_SHARE): Uint8Array {
  const out = new Uint8Array(removed.length);
  for (let i = 0; i < removed.length; i++) out[i] = Number(removed[i]) >= share ? 1 : 0;
  return out;
}

/** The indices of the set flags. */
export function flaggedIndices(flags: Uint8Array): number[] {
  const out: number[] = [];
  flags.forEach((f, i) => f && out.push(i));
  return out;
}

/**
 * The outline of the flagged cells of one grid (rows x cols from `offset` in `flags`, over `box` in
 * image fractions) as line segments [x0, y0, x1, y1] in canvas pixels (width x height) for the part of
 * the image on show (`view`): each edge between a flagged cell and an unflagged one (or the grid's
 * border), so adjacent removed cells make one contour. The same cell geometry as the heat layer.
 */
export function outlineSegments(flags: Uint8Array, offset: number, rows: number, cols: number, box: readonly number[], view: Viewport, width: number, height: number): number[][] {
  const [x0, y0, x1, y1] = box.length === 4 ? box : [0, 0, 1, 1];
  const on = (r: number, c: number) => r >= 0 && r < rows && c >= 0 && c < cols && flags[offset + r * cols + c] === 1;
  const px = (c: number) => ((x0 + ((x1 - x0) * c) / cols - view.x) * view.z) * width;
  const py = (r: number) => ((y0 + ((y1 - y0) * r) / rows - view.y) * view.z) * height;
  const out: number[][] = [];
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      if (!on(r, c)) continue;
      if (!on(r - 1, c)) out.push([px(c), py(r), px(c + 1), py(r)]);
      if (!on(r + 1, c)) out.push([px(c), py(r + 1), px(c + 1), py(r + 1)]);
      if (!on(r, c - 1)) out.push([px(c), py(r), px(c), py(r + 1)]);
      if (!on(r, c + 1)) out.push([px(c + 1), py(r), px(c + 1), py(r + 1)]);
    }
  return out;
}

/** Stroke the segments on `ctx`: a white line on a dark halo, visible on any image and map (a red one
 * would vanish on a red distractor). */
export function strokeOutline(ctx: CanvasRenderingContext2D, segments: number[][], lineWidth: number): void {
  if (!segments.length) return;
  ctx.save();
  ctx.lineCap = "square";
  for (const [style, w] of [["rgba(0, 0, 0, 0.8)", lineWidth + 2], ["rgb(255, 255, 255)", lineWidth]] as const) {
    ctx.strokeStyle = style;
    ctx.lineWidth = w;
    ctx.beginPath();
    for (const [a, b, c, d] of segments) {
      ctx.moveTo(a, b);
      ctx.lineTo(c, d);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/** The cut on the curves panel: at the share of the image shown that the cut keeps (1 − r). */
export function curveMarker(d: DiagnosisMeta): { x: number; label: string; reads: string } | null {
  if (d.k === null) return null;
  const r = Number(d.r);
  return Number.isFinite(r) ? { x: 1 - r, label: `cut: ${percent(r)} removed`, reads: d.correct } : null;
}

/** The banner above the panels. */
export class DiagnosisBanner {
  readonly el = h("p", { class: "tam-diagnosis-banner", role: "diagnosis-banner", attrs: { hidden: "" } });

  constructor(d: DiagnosisMeta) {
    this.el.textContent = bannerText(d);
  }

  show(on: boolean): void {
    this.el.hidden = !on;
  }
}
