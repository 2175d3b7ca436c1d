/**
 * A small tooltip for the token under the pointer or with the keyboard focus: its true text (the
 * token's title), its token id, its probability (an answer token: the chosen token's, meta.chosen),
 * its map's peak (meta.signal, TAM's: only for methods it describes) and what the method adds
 * (MethodMaps.facts; TAM: the ECI scale s_v; EAGLE: R_t, π_t, Δ_t and p with the full image).
 * Escape (anywhere) hides it. While it shows, the token's title is set aside so the browser's own tooltip
 * does not cover it; the token points at it with aria-describedby.
 */

import { type WireMeta, wireNumber } from "../codec";
import type { MethodMaps, Params } from "../methods";
import { percent } from "./candidates";
import { h } from "./dom";

/** One line of the tooltip: a label and its value, both plain text. */
export interface Fact {
  label: string;
  value: string;
}

/** What the tooltip says about one item, in order; `signal`: meta.signal describes the method's maps; `params`: the settings on show (TAM: its layer). */
export function tokenFacts(meta: WireMeta, maps: MethodMaps, item: number, signal = true, params?: Params): Fact[] {
  const id = meta.items[item]?.id;
  return [
    { label: "token id", value: id === undefined ? "n/a" : String(id) },
    { label: "probability", value: probability(meta, item) },
    ...(signal ? [{ label: "map peak", value: peak(meta, item) }] : []),
    ...(maps.facts?.(item, params) ?? []),
  ];
}

/** The chosen token's probability at an answer step; a prompt token was given, not chosen. */
function probability(meta: WireMeta, item: number): string {
  const r = item - meta.n_prompt;
  if (r < 0) return "n/a (a prompt token)";
  const p = meta.chosen?.[r]?.p;
  return p === undefined || p === null ? "n/a (not recorded)" : percent(wireNumber(p));
}

/** The raw map's peak over the answer's strongest (tam_widget/display/signal.py); the title says when it is under the noise floor. */
function peak(meta: WireMeta, item: number): string {
  const value = Number(meta.signal?.strength[item]);
  return Number.isFinite(value) ? `${Math.round(100 * value)}% of the answer's strongest` : "n/a";
}

let tooltips = 0; // a unique id per tooltip, for aria-describedby

export class TokenTooltip {
  readonly el: HTMLElement;
  private anchor: HTMLElement | null = null;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly source: HTMLElement,
    private readonly facts: (item: number) => Fact[],
  ) {
    this.el = h("div", { class: "tam-tooltip", role: "tooltip", attrs: { role: "tooltip", id: `tam-tooltip-${++tooltips}`, hidden: "" } });
    this.listen("mouseover", (e) => this.point(e.target));
    this.listen("mouseleave", () => this.hide());
    this.listen("focusin", (e) => this.point(e.target));
    this.listen("focusout", () => this.hide());
  }

  /** Show the tooltip under a token element (data-index: its item). */
  show(node: HTMLElement): void {
    if (node === this.anchor) return;
    this.hide();
    this.anchor = node;
    const title = node.getAttribute("title") ?? "";
    node.dataset.title = title;
    node.removeAttribute("title");
    node.setAttribute("aria-describedby", this.el.id);
    const rows = this.facts(Number(node.dataset.index)).map((f) => h("div", { class: "tam-fact" }, [h("dt", { text: f.label }), h("dd", { text: f.value })]));
    this.el.replaceChildren(h("div", { class: "tam-tooltip-title", text: title }), h("dl", {}, rows));
    this.el.hidden = false;
    this.place(node);
    this.el.ownerDocument.addEventListener("keydown", this.onKey); // Escape dismisses it, wherever the focus is
  }

  hide(): void {
    const node = this.anchor;
    this.anchor = null;
    this.el.hidden = true;
    if (!node) return;
    this.el.ownerDocument.removeEventListener("keydown", this.onKey);
    node.setAttribute("title", node.dataset.title ?? "");
    delete node.dataset.title;
    node.removeAttribute("aria-describedby");
  }

  dispose(): void {
    this.hide();
    for (const fn of this.cleanups) fn();
  }

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") this.hide();
  };

  private point(target: EventTarget | null): void {
    const node = target instanceof Element ? target.closest<HTMLElement>('[data-role="token"]') : null;
    if (node) this.show(node);
    else this.hide();
  }

  /** Just below the token, inside the tooltip's positioned container (kept from running off its right edge). */
  private place(node: HTMLElement): void {
    const frame = (this.el.offsetParent ?? this.el.parentElement)?.getBoundingClientRect();
    if (!frame) return;
    const box = node.getBoundingClientRect();
    const left = Math.max(0, Math.min(box.left - frame.left, frame.width - this.el.offsetWidth));
    this.el.style.left = `${left}px`;
    this.el.style.top = `${box.bottom - frame.top + 6}px`;
  }

  private listen(type: string, fn: (e: Event) => void): void {
    this.source.addEventListener(type, fn);
    this.cleanups.push(() => this.source.removeEventListener(type, fn));
  }
}
