/** The heatmap's colour scale, and the key to the text's quiet relevance shading (tokens.ts). */

import { gradientCss } from "../colormap";
import { h } from "./dom";

export class Legend {
  readonly el: HTMLElement;
  private readonly bar: HTMLElement;
  private colormap = "";

  constructor() {
    this.bar = h("span", { class: "tam-legend-bar" });
    this.el = h("div", { class: "tam-legend-rows", role: "legend" }, [
      h("div", { class: "tam-legend" }, [h("span", { text: "low" }), this.bar, h("span", { text: "high" }), h("span", { class: "tam-muted", text: "activation on the image" })]),
      h("div", { class: "tam-legend" }, [h("span", { class: "tam-legend-swatch" }), h("span", { class: "tam-muted", text: "text: relevance of earlier tokens to the shown one (underlined: the top 3)" })]),
    ]);
  }

  update(colormap: string): void {
    if (colormap === this.colormap) return;
    this.colormap = colormap;
    this.bar.style.background = gradientCss(colormap);
  }
}
