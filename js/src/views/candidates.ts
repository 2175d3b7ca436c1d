/** The top-3 candidates (and their probabilities) at the position that predicts an answer item. */

import type { Candidate, WireMeta } from "../codec";
import { displayText, h } from "./dom";

export class CandidatesView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private item = -1;

  constructor(private readonly meta: WireMeta) {
    this.body = h("div", { class: "tam-candidates-body" });
    this.el = h("section", { class: "tam-candidates", role: "candidates" }, [h("h4", { text: "Top candidates" }), this.body]);
  }

  update(item: number): void {
    if (item === this.item) return;
    this.item = item;
    const r = item - this.meta.n_prompt;
    const top: Candidate[] | undefined = r >= 0 ? this.meta.top[r] : undefined;
    if (!top || top.length === 0) {
      const why = r < 0 ? "A prompt token: the model did not choose it." : "No candidates recorded.";
      this.body.replaceChildren(h("p", { class: "tam-muted", text: why }));
      return;
    }
    const chosen = this.meta.items[item]?.text;
    this.body.replaceChildren(
      h(
        "ol",
        {},
        top.map((c) => {
          const pct = `${(100 * c.p).toFixed(1)}%`;
          const bar = h("span", { class: "tam-bar" });
          bar.style.width = `${Math.max(0, Math.min(100, 100 * c.p))}%`;
          return h("li", { class: c.text === chosen ? "tam-candidate is-chosen" : "tam-candidate", role: "candidate" }, [
            h("span", { class: "tam-candidate-text", text: displayText(c.text), attrs: { title: JSON.stringify(c.text) } }),
            h("span", { class: "tam-bar-track" }, [bar]),
            h("span", { class: "tam-candidate-p", text: pct }),
          ]);
        }),
      ),
    );
  }
}
