/**
 * Where in the network the evidence appears (explain(..., layers=...)): a slider over the decoder
 * layers the page holds, labelled "layer i / n", and the "layer × peak" strip: for the selected
 * token one cell per kept layer, shaded by that layer's raw-map peak as a share of the token's
 * strongest layer, the shown layer outlined; clicking a cell shows that layer. Shown only on a
 * page with more than one layer. The slider writes the synced `layer` trait.
 */

import type { LayerInfo } from "../methods/tam-layers";
import { displayText, h } from "./dom";

/** What the layer view asks of the app: set the layer (debounced while dragging), save a pending value now. */
export interface LayerActions {
  set(layer: number, debounce: boolean): void;
  flush(): void;
}

export class LayerView {
  readonly el: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly value = h("output", { class: "tam-value", role: "layer-value" });
  private readonly caption = h("span", { class: "tam-muted tam-layer-caption", role: "layer-caption" });
  private readonly cells: HTMLButtonElement[];
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly info: LayerInfo | null,
    on: LayerActions,
  ) {
    const kept = info?.kept ?? [];
    this.slider = h("input", { role: "layer", attrs: { type: "range", min: "0", max: String(Math.max(0, kept.length - 1)), step: "1", "aria-label": "Decoder layer" } });
    this.cells = kept.map((layer) => h("button", { class: "tam-layer-cell", role: "layer-cell", attrs: { type: "button", "data-layer": String(layer) } }));
    const strip = h("div", { class: "tam-layer-cells", role: "layer-strip", attrs: { "aria-label": "Peak by layer" } }, this.cells);
    this.el = h("div", { class: "tam-layers", role: "layers", attrs: info && kept.length > 1 ? {} : { hidden: "" } }, [
      h("label", { class: "tam-layer-row" }, [h("span", { class: "tam-control-label", text: "layer" }), this.slider, this.value]),
      h("div", { class: "tam-layer-row" }, [h("span", { class: "tam-line-label", text: "Peak by layer" }), strip]),
      this.caption,
    ]);
    this.listen(this.slider, "input", () => on.set(kept[Number(this.slider.value)] ?? -1, true));
    this.listen(this.slider, "change", () => on.flush());
    this.listen(strip, "click", (e) => {
      const cell = e.target instanceof Element ? e.target.closest<HTMLElement>('[data-role="layer-cell"]') : null;
      if (cell) on.set(Number(cell.dataset.layer), false);
    });
  }

  /** Show `layer` on the slider and the strip of the selected item (peaks: one share per kept layer). */
  update(layer: number, peaks: Float32Array, token: string): void {
    if (!this.info || this.el.hidden) return;
    const index = Math.max(0, this.info.kept.indexOf(layer));
    const shown = this.info.kept[index];
    if (this.slider.value !== String(index)) this.slider.value = String(index);
    const label = `layer ${shown} / ${this.info.n}`;
    this.value.textContent = label;
    this.slider.setAttribute("aria-valuetext", label);
    this.caption.textContent = `raw-map peak of ${JSON.stringify(displayText(token))} at each kept layer, as a share of its strongest`;
    this.cells.forEach((cell, i) => this.paint(cell, this.info?.kept[i] ?? 0, peaks[i] ?? 0, i === index));
  }

  private paint(cell: HTMLButtonElement, layer: number, share: number, current: boolean): void {
    cell.style.background = `hsl(215 75% ${Math.round(96 - 60 * share)}%)`;
    cell.classList.toggle("is-current", current);
    cell.setAttribute("aria-pressed", String(current));
    const text = `layer ${layer}: peak ${Math.round(100 * share)}% of the strongest layer`;
    cell.title = text;
    cell.setAttribute("aria-label", text);
  }

  dispose(): void {
    for (const fn of this.cleanups) fn();
  }

  private listen(node: HTMLElement, type: string, fn: (e: Event) => void): void {
    node.addEventListener(type, fn);
    this.cleanups.push(() => node.removeEventListener(type, fn));
  }
}
