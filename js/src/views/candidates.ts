/**
 * The top candidates (and their probabilities) at the position that predicts an answer item, and
 * the token the answer has there when it is not among them. A non-finite probability shows as n/a.
 * Where the page holds candidate maps, a candidate is a button: its map at this item ("what if the
 * model had said it here"); its "vs" button contrasts the shown token with it (map(a) - map(b)).
 */

import { type Candidate, type ChosenMeta, type WireMeta, wireNumber } from "../codec";
import { DIVERGING, gradientCss, signedToUnit } from "../colormap";
import type { CandidatePick } from "../state/local";
import { displayText, h } from "./dom";

/** A probability as a percentage: "n/a" when not finite, two significant digits below 0.1%. */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return "n/a";
  const pct = 100 * p;
  if (pct === 0 || Math.abs(pct) >= 0.1) return `${pct.toFixed(1)}%`;
  return `${pct.toPrecision(2)}%`;
}

/** What a click asks for: show token id's map at the shown item (null: its own), or a contrast of two. */
export interface CandidateActions {
  pick(pick: CandidatePick | null): void;
  /** Where a kernel answers: put token `id` at answer item `item` and let the model go on (what-if). */
  continueWith?: (item: number, id: number) => void;
}

/** One row: a candidate, or the chosen token when it is not among them. */
interface Row {
  text: string;
  p: number;
  id: number | undefined;
  chosen: boolean;
  extra: boolean; // the chosen token outside the top k
  recorded: boolean; // false: its probability was not recorded
}

export class CandidatesView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private key = "";

  constructor(
    private readonly meta: WireMeta,
    private readonly actions: CandidateActions = { pick: () => {} },
    private readonly clickable = false,
  ) {
    this.body = h("div", { class: "tam-candidates-body" });
    this.el = h("section", { class: "tam-candidates", role: "candidates" }, [h("h4", { text: "Top candidates" }), this.body]);
  }

  update(item: number, pick: CandidatePick | null = null): void {
    const here = pick && pick.item === item ? pick : null;
    const key = `${item}|${here?.a}|${here?.b}`;
    if (key === this.key) return;
    this.key = key;
    const r = item - this.meta.n_prompt;
    const top: Candidate[] | undefined = r >= 0 ? this.meta.top[r] : undefined;
    if (!top || top.length === 0) {
      const why = r < 0 ? "A prompt token: the model did not choose it." : "No candidates recorded.";
      this.body.replaceChildren(h("p", { class: "tam-muted", text: why }));
      return;
    }
    const rows = this.rows(item, top, this.meta.chosen?.[r]);
    const list = h("ol", {}, rows.filter((x) => !x.extra).map((x) => this.row(item, x, rows, here)));
    const extra = rows.filter((x) => x.extra).map((x) => this.row(item, x, rows, here));
    this.body.replaceChildren(list, ...extra, ...this.status(rows, here));
  }

  private rows(item: number, top: Candidate[], chosen: ChosenMeta | undefined): Row[] {
    const text = this.meta.items[item]?.text ?? "";
    const isChosen = (c: Candidate, k: number) => (chosen ? chosen.rank === k : c.text === text); // older pages: by text
    const rows: Row[] = top.map((c, k) => ({ text: c.text, p: wireNumber(c.p), id: c.id, chosen: isChosen(c, k), extra: false, recorded: true }));
    if (chosen && chosen.rank < 0) {
      const recorded = chosen.p !== null;
      rows.push({ text, p: recorded ? wireNumber(chosen.p as number) : Number.NaN, id: chosen.id, chosen: true, extra: true, recorded });
    }
    return rows;
  }

  /** The token a contrast starts from: the one picked, else the chosen one. */
  private base(rows: Row[], pick: CandidatePick | null): number | undefined {
    return pick ? pick.a : rows.find((x) => x.chosen)?.id;
  }

  private row(item: number, x: Row, rows: Row[], pick: CandidatePick | null): HTMLElement {
    const cls = `tam-candidate${x.chosen ? " is-chosen" : ""}${x.extra ? " tam-chosen" : ""}`;
    const live = this.clickable && x.id !== undefined;
    const shown = pick !== null && pick.a === x.id;
    const against = pick !== null && pick.b === x.id;
    const parts = this.cells(x, live ? " tam-candidate-pick" : "");
    const main = live ? this.button(parts, shown, () => this.actions.pick(shown && pick?.b === null ? null : { item, a: x.id as number, b: null })) : h("span", {}, parts);
    if (live) main.title = `Show the map of ${JSON.stringify(x.text)} at this token (what if the model had said it)`;
    const children: Node[] = [main];
    const base = this.base(rows, pick);
    if (live && base !== undefined && base !== x.id) children.push(this.vs(item, base, x, against));
    if (this.actions.continueWith && x.id !== undefined && !x.chosen) children.push(this.continueButton(item, x));
    const el = h(x.extra ? "div" : "li", { class: cls + (shown ? " is-picked" : "") + (against ? " is-against" : ""), role: x.extra ? "chosen" : "candidate" }, children);
    el.dataset.id = String(x.id ?? "");
    return el;
  }

  private cells(x: Row, cls: string): Node[] {
    const bar = h("span", { class: "tam-bar" });
    bar.style.width = `${Number.isFinite(x.p) ? Math.max(0, Math.min(100, 100 * x.p)) : 0}%`;
    const label = x.extra ? [h("span", { class: "tam-chosen-label", text: "chosen: " })] : [];
    const text = h("span", { class: `tam-candidate-text${cls}`, text: displayText(x.text), attrs: { title: JSON.stringify(x.text) } });
    if (!x.recorded) return [...label, text, h("span", { class: "tam-muted", text: ` not among the top ${this.meta.top[0]?.length ?? 0} (probability not recorded)` })];
    const value = h("span", { class: Number.isFinite(x.p) ? "tam-candidate-p" : "tam-candidate-p is-na", text: percent(x.p) });
    if (!Number.isFinite(x.p)) value.title = "not a finite probability (the model's output held NaN or an infinity)";
    return [...label, text, h("span", { class: "tam-bar-track" }, [bar]), value];
  }

  private button(children: Node[], pressed: boolean, onClick: () => void): HTMLElement {
    const b = h("button", { class: "tam-candidate-button", role: "candidate-pick", attrs: { type: "button", "aria-pressed": String(pressed) } }, children);
    b.addEventListener("click", onClick);
    return b;
  }

  private vs(item: number, base: number, x: Row, active: boolean): HTMLElement {
    const label = `Contrast: where the evidence is for the shown token (red) rather than ${JSON.stringify(x.text)} (blue)`;
    const b = h("button", { class: "tam-vs", role: "candidate-vs", text: "vs", attrs: { type: "button", "aria-pressed": String(active), title: label, "aria-label": label } });
    b.addEventListener("click", () => this.actions.pick(active ? { item, a: base, b: null } : { item, a: base, b: x.id as number }));
    return b;
  }

  private continueButton(item: number, x: Row): HTMLElement {
    const label = `What if the model had said ${JSON.stringify(x.text)} here and gone on: explain that answer beside this one`;
    const b = h("button", { class: "tam-continue", role: "candidate-continue", text: "continue with this", attrs: { type: "button", title: label, "aria-label": label } });
    b.addEventListener("click", () => this.actions.continueWith?.(item, x.id as number));
    return b;
  }

  /** What the image shows when it is not the item's own map, and the way back. */
  private status(rows: Row[], pick: CandidatePick | null): HTMLElement[] {
    if (!pick) return this.clickable ? [h("p", { class: "tam-muted tam-candidates-hint", text: "Click a candidate to see its map here; “vs” contrasts two." })] : [];
    const name = (id: number | null) => JSON.stringify(rows.find((x) => x.id === id)?.text ?? `#${id}`);
    const back = h("button", { class: "tam-candidate-back", role: "candidate-back", text: "own map", attrs: { type: "button" } });
    back.addEventListener("click", () => this.actions.pick(null));
    if (pick.b === null) return [h("p", { class: "tam-pick-status", role: "pick-status" }, [h("span", { text: `Map of ${name(pick.a)} at this token · ` }), back])];
    const bar = h("span", { class: "tam-legend-bar tam-diverging-bar" });
    bar.style.background = gradientCss(DIVERGING);
    return [
      h("p", { class: "tam-pick-status", role: "pick-status" }, [h("span", { text: `Contrast ${name(pick.a)} − ${name(pick.b)} · ` }), back]),
      h("div", { class: "tam-legend tam-diverging", role: "contrast-legend" }, [h("span", { text: `${name(pick.b)} ` }), bar, h("span", { text: ` ${name(pick.a)}` })]),
    ];
  }
}

/** A signed contrast map as the [0, 1] values the diverging table is indexed with (into out). */
export function toUnit(signed: Float32Array, out: Float32Array): Float32Array {
  for (let i = 0; i < signed.length; i++) out[i] = signedToUnit(signed[i]);
  return out;
}
