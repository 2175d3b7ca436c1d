/**
 * The token view's units: one clickable unit per token, or per word of consecutive tokens
 * (items[].word), with what it is (whitespace, special, the end of turn) and its relevance.
 */

import type { ItemMeta } from "../codec";
import { displayText, h, isWhitespace } from "./dom";

/** A unit's relevance: its largest item value among the first nText; -1 when none of its items has one. */
export function unitRelevance(u: TokenUnit, text: Float32Array, nText: number): number {
  let best = -1;
  for (const i of u.items) if (i < nText && text[i] > best) best = text[i];
  return best;
}

/** One clickable unit: a token, or a word of consecutive tokens sharing items[].word. */
export interface TokenUnit {
  first: number; // item selected by this unit
  items: number[];
  text: string;
  prompt: boolean;
  gap: boolean; // a space before it (words the prompt separated by skipped whitespace tokens)
  whitespace: boolean; // every item in it is whitespace only
  special: boolean; // every item in it is a special token
}

export function tokenUnits(items: ItemMeta[], group: boolean): TokenUnit[] {
  const units: TokenUnit[] = [];
  items.forEach((it, i) => {
    const last = units[units.length - 1];
    const prev = items[i - 1];
    const whitespace = it.whitespace ?? isWhitespace(it.text);
    const special = Boolean(it.special);
    if (group && last && prev && prev.word === it.word && prev.prompt === it.prompt) {
      last.items.push(i);
      last.text += it.text;
      last.whitespace &&= whitespace;
      last.special &&= special;
    } else {
      units.push({ first: i, items: [i], text: it.text, prompt: it.prompt, gap: Boolean(it.gap), whitespace, special });
    }
  });
  return units;
}

/** What a unit is, for its class and tooltip: an answer's special token is its end of turn. */
export function unitKind(u: TokenUnit): { cls: string; note: string } {
  if (u.special && !u.prompt) return { cls: " is-special is-end-of-turn", note: " · end of turn" };
  if (u.special) return { cls: " is-special", note: " · special token" };
  if (u.whitespace) return { cls: " is-whitespace", note: " · whitespace" };
  return { cls: "", note: "" };
}

/** A unit's span: its text with visible whitespace marks, its kind's classes, its true text in the title. */
export function unitSpan(u: TokenUnit, items: ItemMeta[], flat: boolean): HTMLElement {
  const raw = u.items.map((i) => items[i].text).join("");
  const kind = unitKind(u);
  return h("span", {
    class: `tam-token${kind.cls}${flat ? " is-flat" : ""}`,
    role: "token",
    text: displayText(u.text, u.whitespace),
    attrs: { "data-index": String(u.first), role: "option", tabindex: "-1", "aria-selected": "false", title: `#${u.first} ${JSON.stringify(raw)}${kind.note}${flat ? " · no visual signal" : ""}` },
  });
}

/** The prompt's and the answer's lines (a label, then their units' spans; a space where the prompt skipped whitespace). */
export function tokenLines(units: TokenUnit[], nodes: HTMLElement[]): HTMLElement[] {
  const line = (prompt: boolean, label: string) => {
    const spans: Node[] = [];
    nodes.forEach((node, k) => {
      if (units[k].prompt !== prompt) return;
      if (units[k].gap && spans.length) spans.push(document.createTextNode(" "));
      spans.push(node);
    });
    return spans.length ? h("div", { class: "tam-line" }, [h("span", { class: "tam-line-label", text: label }), ...spans]) : null;
  };
  return [line(true, "Prompt"), line(false, "Answer")].filter((n): n is HTMLDivElement => n !== null);
}

const NEXT: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

/** The unit a key moves to from unit `from` of `count` (arrows, Home, End; Enter and Space: `from`), null for other keys. */
export function keyTarget(key: string, from: number, count: number): number | null {
  let to: number;
  if (key in NEXT) to = from + NEXT[key];
  else if (key === "Home") to = 0;
  else if (key === "End") to = count - 1;
  else if (key === "Enter" || key === " ") to = from;
  else return null;
  return Math.min(count - 1, Math.max(0, to));
}

/** Each unit's classes and data as its look says (has-relevance, has-reliance + data-reliance, is-top + data-rank), written where they changed. */
export class UnitMarks {
  private nodes: HTMLElement[] = [];
  private relevant = new Uint8Array(0);
  private ranks = new Int8Array(0); // 0: not among the top few
  private reliances: string[] = []; // "": no tint

  /** New spans, as built: none of the marks. */
  reset(nodes: HTMLElement[]): void {
    this.nodes = nodes;
    this.relevant = new Uint8Array(nodes.length);
    this.ranks = new Int8Array(nodes.length);
    this.reliances = nodes.map(() => "");
  }

  set(k: number, relevant: boolean, reliance: string, rank: number): void {
    const node = this.nodes[k];
    if (this.relevant[k] !== Number(relevant)) {
      this.relevant[k] = Number(relevant);
      node.classList.toggle("has-relevance", relevant);
    }
    if (this.reliances[k] !== reliance) {
      this.reliances[k] = reliance;
      node.classList.toggle("has-reliance", reliance !== "");
      if (reliance) node.dataset.reliance = reliance;
      else delete node.dataset.reliance;
    }
    if (this.ranks[k] !== rank) {
      this.ranks[k] = rank;
      node.classList.toggle("is-top", rank > 0);
      if (rank > 0) node.dataset.rank = String(rank);
      else delete node.dataset.rank;
    }
  }
}
