/** The colour scale shared by the heatmap and the text relevance. */

import { gradientCss } from "../colormap";
import { h } from "./dom";

export class Legend {
  readonly el: HTMLElement;
  private readonly bar: HTMLElement;
  private colormap = "";

  constructor() {
    this.bar = h("span", { class: "tam-legend-bar" });
    this.el = h("div", { class: "tam-legend", role: "legend" }, [
      h("span", { text: "low" }),
      this.bar,
      h("span", { text: "high" }),
      h("span", { class: "tam-muted", text: "activation; on the text: relevance of earlier tokens to the shown one" }),
    ]);
  }

  update(colormap: string): void {
    if (colormap === this.colormap) return;
    this.colormap = colormap;
    this.bar.style.background = gradientCss(colormap);
  }
}
