/**
 * The top candidates (and their probabilities) at the position that predicts an answer item, and
 * the token the answer has there when it is not among them. A non-finite probability shows as n/a.
 */

import { type Candidate, type WireMeta, wireNumber } from "../codec";
import { displayText, h } from "./dom";

/** A probability as a percentage: "n/a" when not finite, two significant digits below 0.1%. */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return "n/a";
  const pct = 100 * p;
  if (pct === 0 || Math.abs(pct) >= 0.1) return `${pct.toFixed(1)}%`;
  return `${pct.toPrecision(2)}%`;
}

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
    const text = this.meta.items[item]?.text ?? "";
    const chosen = this.meta.chosen?.[r]; // absent in older pages: the chosen candidate is found by its text
    const isChosen = (c: Candidate, k: number) => (chosen ? chosen.rank === k : c.text === text);
    const rows: Node[] = [h("ol", {}, top.map((c, k) => this.row(c.text, wireNumber(c.p), isChosen(c, k) ? "tam-candidate is-chosen" : "tam-candidate", "candidate")))];
    if (chosen && chosen.rank < 0) {
      const row = chosen.p === null ? this.unrecorded(text, top.length) : this.row(text, wireNumber(chosen.p), "tam-candidate is-chosen tam-chosen", "chosen", "chosen: ");
      rows.push(row);
    }
    this.body.replaceChildren(...rows);
  }

  private row(text: string, p: number, cls: string, role: string, label = ""): HTMLElement {
    const bar = h("span", { class: "tam-bar" });
    bar.style.width = `${Number.isFinite(p) ? Math.max(0, Math.min(100, 100 * p)) : 0}%`;
    const value = h("span", { class: Number.isFinite(p) ? "tam-candidate-p" : "tam-candidate-p is-na", text: percent(p) });
    if (!Number.isFinite(p)) value.title = "not a finite probability (the model's output held NaN or an infinity)";
    return h(role === "candidate" ? "li" : "div", { class: cls, role }, [
      ...(label ? [h("span", { class: "tam-chosen-label", text: label })] : []),
      h("span", { class: "tam-candidate-text", text: displayText(text), attrs: { title: JSON.stringify(text) } }),
      h("span", { class: "tam-bar-track" }, [bar]),
      value,
    ]);
  }

  private unrecorded(text: string, k: number): HTMLElement {
    return h("div", { class: "tam-candidate is-chosen tam-chosen", role: "chosen" }, [
      h("span", { class: "tam-chosen-label", text: "chosen: " }),
      h("span", { class: "tam-candidate-text", text: displayText(text), attrs: { title: JSON.stringify(text) } }),
      h("span", { class: "tam-muted", text: ` not among the top ${k} (probability not recorded)` }),
    ]);
  }
}
