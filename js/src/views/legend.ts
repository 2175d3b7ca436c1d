/**
 * The heatmap's colour scale with what the shown method's map is, and the key to the text's
 * colours: the quiet relevance shading (tokens.ts), or, for a method with a reliance per token
 * (EAGLE), the reliance tint (reliance.ts).
 */

import { gradientCss } from "../colormap";
import { h } from "./dom";
import { relianceGradient } from "./reliance";

/** What the legend says for the shown method. */
export interface LegendText {
  caption: string; // what the image shows ("activation on the image")
  reliance: boolean; // the text is tinted by reliance, not shaded by relevance
}

export const ACTIVATION = "activation on the image";

export class Legend {
  readonly el: HTMLElement;
  private readonly bar = h("span", { class: "tam-legend-bar" });
  private readonly caption = h("span", { class: "tam-muted", role: "legend-caption", text: ACTIVATION });
  private readonly relevance: HTMLElement;
  private readonly reliance: HTMLElement;
  private colormap = "";

  constructor() {
    this.relevance = h("div", { class: "tam-legend" }, [h("span", { class: "tam-legend-swatch" }), h("span", { class: "tam-muted", text: "text: relevance of earlier tokens to the shown one (underlined: the top 3)" })]);
    const scale = h("span", { class: "tam-legend-bar tam-reliance-bar" });
    scale.style.background = relianceGradient();
    this.reliance = h("div", { class: "tam-legend tam-reliance-legend", role: "reliance-legend", attrs: { hidden: "" } }, [
      h("span", { class: "tam-muted", text: "reliance on the image:" }),
      h("span", { text: "prior ◀" }),
      scale,
      h("span", { text: "▶ image" }),
    ]);
    this.reliance.title = "Each token EAGLE explained, by how much its probability rises as the image is revealed (Rₜ, min–max over the answer): red relies on the image, blue on the language prior and the text so far.";
    this.el = h("div", { class: "tam-legend-rows", role: "legend" }, [
      h("div", { class: "tam-legend" }, [h("span", { text: "low" }), this.bar, h("span", { text: "high" }), this.caption]),
      this.relevance,
      this.reliance,
    ]);
  }

  update(colormap: string, text: LegendText = { caption: ACTIVATION, reliance: false }): void {
    if (this.caption.textContent !== text.caption) this.caption.textContent = text.caption;
    this.relevance.hidden = text.reliance;
    this.reliance.hidden = !text.reliance;
    if (colormap === this.colormap) return;
    this.colormap = colormap;
    this.bar.style.background = gradientCss(colormap);
  }
}
