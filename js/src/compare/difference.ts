/**
 * The difference view: side a's map minus side b's for the selected row, drawn over a's image in the
 * diverging colours (red: a higher, blue: b higher), one panel per view; only where the two grids
 * match (the same image through the same processor), else a note says why there is none.
 */

import type { WireMeta } from "../codec";
import { DIVERGING } from "../colormap";
import { LocalState } from "../state/local";
import { toUnit } from "../views/candidates";
import { h } from "../views/dom";
import { HeatmapPanel } from "../views/heatmap";
import { ImageStore } from "../views/images";

/** a − b per cell; null when the lengths differ. */
export function subtract(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array | null {
  if (a.length !== b.length) return null;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

export class DifferenceView {
  readonly el: HTMLElement;
  private readonly panels: HeatmapPanel[];
  private readonly images: ImageStore;
  private readonly note = h("p", { class: "tam-muted", role: "difference-note" });
  private readonly unit: Float32Array;
  /** The difference drawn last (null: none drawn). */
  values: Float32Array | null = null;

  constructor(meta: WireMeta, pngs: DataView[], labels: [string, string]) {
    const local = new LocalState(meta.views.length);
    this.images = new ImageStore(pngs, () => this.panels.forEach((p) => p.compose()));
    this.panels = meta.views.map((view, i) => {
      const image = meta.images[view.image] ?? { first: 0, frames: 1, height: 1, width: 1 };
      return new HeatmapPanel(view, i, image, meta.frames, local, this.images);
    });
    this.unit = new Float32Array(meta.frames.reduce((n, f) => n + f.height * f.width, 0));
    const title = h("div", { class: "tam-line-label", text: `Difference: ${labels[0]} − ${labels[1]} (red: ${labels[0]} higher, blue: ${labels[1]} higher)` });
    this.el = h("div", { class: "tam-compare-difference", role: "difference" }, [title, h("div", { class: "tam-panels" }, this.panels.map((p) => p.el)), this.note]);
    const dpr = typeof window === "undefined" ? 1 : window.devicePixelRatio || 1;
    for (const p of this.panels) p.resize(320, dpr);
  }

  /** Draw a − b, or say why not (`why`); `opacity` as the sides'. */
  show(diff: Float32Array | null, why: string, opacity: number): void {
    this.values = diff;
    this.note.textContent = diff ? "" : why;
    this.note.hidden = diff !== null;
    const image = diff ? toUnit(diff, this.unit) : this.unit.fill(0.5);
    for (const p of this.panels) p.draw(image, DIVERGING, opacity, diff !== null);
  }

  dispose(): void {
    this.images.dispose();
  }
}
