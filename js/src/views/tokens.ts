/**
 * The prompt and the answer as focusable tokens (or words): click and arrow keys select, hover
 * previews, and the shown item's relevance on earlier tokens shades them quietly: one amber hue
 * whose alpha is the value, the top few underlined (is-top, data-rank). A whitespace-only token
 * shows visible marks (⏎, ·) and a special answer token (the end of turn, <|im_end|>) is set apart;
 * a token below the noise floor (no visual signal) is muted; the title always holds the true text.
 * A method with a reliance on the image per token (EAGLE) tints the tokens it explained instead
 * (reliance.ts) wherever no relevance is shown.
 *
 * Where the browser has the CSS Custom Highlight API the shade is painted by one highlight per alpha
 * level (::highlight(tam-shade-N) in widget.css, shared by every token view in the document): a
 * switch or a slider step moves ranges between highlights and changes no span's style, so nothing
 * is restyled (an inline background per span cost ~5-10 µs each, ~19 ms at 2,048 tokens). Elsewhere
 * (jsdom, older browsers) the shade is the span's inline background, as before.
 */

import type { ItemMeta } from "../codec";
import { displayText, h, isWhitespace } from "./dom";
import { relianceColour, unitReliance } from "./reliance";

/** How many of the most relevant earlier tokens are emphasised, and the least value that counts as relevant at all. */
export const TOP_RELEVANT = 3;
export const MIN_TOP = 0.1;

/** The relevance shade: one hue (amber, legible under dark and light text), at most this opaque. */
const RELEVANCE_RGB = "245, 158, 11";
export const MAX_ALPHA = 0.4;

/** A relevance value in [0, 1] as the token's background colour: alpha = MAX_ALPHA x value, two decimals. */
export function relevanceColour(value: number): string {
  const alpha = Math.round(100 * MAX_ALPHA * Math.min(1, Math.max(0, value))) / 100;
  return `rgba(${RELEVANCE_RGB}, ${alpha})`;
}

/** The units' indices holding the k largest values of at least MIN_TOP, largest first (ties: the earlier unit). One pass, no sort. */
export function topUnits(values: ArrayLike<number>, k: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= MIN_TOP) || (top.length === k && !(v > values[top[k - 1]]))) continue;
    let j = Math.min(top.length, k - 1);
    for (; j > 0 && v > values[top[j - 1]]; j--) top[j] = top[j - 1];
    top[j] = i;
  }
  return top;
}

/** The relevance shade of each of the 41 alpha levels relevanceColour() takes (alpha = level / 100). */
const LEVELS = Math.round(100 * MAX_ALPHA);
const SHADES = Array.from({ length: LEVELS + 1 }, (_, level) => `rgba(${RELEVANCE_RGB}, ${level / 100})`);

/** The highlight of alpha level N (1..LEVELS; level 0 is no shade) is named SHADE_HIGHLIGHT + N; widget.css colours it SHADES[N]. */
export const SHADE_HIGHLIGHT = "tam-shade-";

/** A set of ranges the browser paints alike (a Highlight; a plain Set stands in for one in tests). */
export interface RangeSet {
  add(range: AbstractRange): unknown;
  delete(range: AbstractRange): boolean;
}

/** The document's shade highlights, index = level (index 0 unused), registered once and shared by every view; null without the API. */
export function documentShades(): RangeSet[] | null {
  const registry = typeof CSS !== "undefined" ? CSS.highlights : undefined;
  if (!registry || typeof Highlight === "undefined") return null;
  return SHADES.map((_, level) => {
    const name = SHADE_HIGHLIGHT + level;
    let set = registry.get(name);
    if (!set) registry.set(name, (set = new Highlight()));
    return set;
  });
}

/** A range over a span's contents: static (the browser keeps no live range per token up to date), live where StaticRange is missing. */
function rangeOver(node: HTMLElement): AbstractRange {
  const bounds = { startContainer: node, startOffset: 0, endContainer: node, endOffset: node.childNodes.length };
  if (typeof StaticRange !== "undefined") return new StaticRange(bounds);
  const range = document.createRange();
  range.selectNodeContents(node);
  return range;
}

/** The look of a unit with neither relevance nor tint (paint's numeric key for level -1, rank 0). */
const BLANK = -4;

/** relevanceColour's alpha level (its alpha x 100) for a value. */
function shadeLevel(value: number): number {
  return Math.round(100 * MAX_ALPHA * Math.min(1, Math.max(0, value)));
}

/** A unit's relevance: its largest item value among the first nText; -1 when none of its items has one. */
function unitRelevance(u: TokenUnit, text: Float32Array, nText: number): number {
  let best = -1;
  for (const i of u.items) if (i < nText && text[i] > best) best = text[i];
  return best;
}

/** One clickable unit: a token, or a word of consecutive tokens sharing items[].word. */
interface TokenUnit {
  first: number; // item selected by this unit
  items: number[];
  text: string;
  prompt: boolean;
  gap: boolean; // a space before it (words the prompt separated by skipped whitespace tokens)
  whitespace: boolean; // every item in it is whitespace only
  special: boolean; // every item in it is a special token
}

function tokenUnits(items: ItemMeta[], group: boolean): TokenUnit[] {
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
function unitKind(u: TokenUnit): { cls: string; note: string } {
  if (u.special && !u.prompt) return { cls: " is-special is-end-of-turn", note: " · end of turn" };
  if (u.special) return { cls: " is-special", note: " · special token" };
  if (u.whitespace) return { cls: " is-whitespace", note: " · whitespace" };
  return { cls: "", note: "" };
}

interface TokenCallbacks {
  select(item: number): void;
  hover(item: number | null): void;
}

const NEXT: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

export class TokenView {
  readonly el: HTMLElement;
  private units: TokenUnit[] = [];
  private nodes: HTMLElement[] = [];
  private unitOf = new Int32Array(0); // item -> unit index
  private looks: (number | string)[] = []; // what each unit is painted with (a number when untinted), to skip unchanged ones
  private values = new Float64Array(0); // each unit's relevance at the last update (reused)
  private reach = 0; // units [0, reach) may hold relevance: those with an item below the last nText
  private levels = new Int8Array(0); // each unit's shade level as shown (-1: no relevance)
  private lit = new Int8Array(0); // the shade highlight holding each unit's range (0: none)
  private ranges: AbstractRange[] = []; // each unit's range in the shade highlights (with highlights only)
  private inline: string[] = []; // each unit's inline background as set
  private selectedUnit = -1;
  private shownUnit = -1;

  constructor(
    private readonly items: ItemMeta[],
    private readonly on: TokenCallbacks,
    private readonly noSignal: (item: number) => boolean = () => false,
    private readonly shades: RangeSet[] | null = documentShades(),
  ) {
    this.el = h("div", { class: "tam-tokens", role: "tokens", attrs: { role: "listbox", "aria-label": "Tokens" } });
    this.el.addEventListener("click", this.onClick);
    this.el.addEventListener("mouseover", this.onOver);
    this.el.addEventListener("mouseleave", this.onLeave);
    this.el.addEventListener("keydown", this.onKey);
  }

  /** Rebuild the token elements (on start and when word grouping changes). */
  render(group: boolean): void {
    this.unshade();
    this.units = tokenUnits(this.items, group);
    this.unitOf = new Int32Array(this.items.length);
    this.nodes = this.units.map((u, k) => {
      for (const i of u.items) this.unitOf[i] = k;
      const raw = u.items.map((i) => this.items[i].text).join("");
      const kind = unitKind(u);
      const flat = u.items.every((i) => this.noSignal(i)); // below the noise floor: muted (signal.py)
      return h("span", {
        class: `tam-token${kind.cls}${flat ? " is-flat" : ""}`,
        role: "token",
        text: displayText(u.text, u.whitespace),
        attrs: { "data-index": String(u.first), role: "option", tabindex: "-1", "aria-selected": "false", title: `#${u.first} ${JSON.stringify(raw)}${kind.note}${flat ? " · no visual signal" : ""}` },
      });
    });
    this.looks = this.nodes.map(() => BLANK); // as built: no shade, no tint, no rank
    this.values = new Float64Array(this.units.length);
    this.reach = 0;
    this.levels = new Int8Array(this.units.length).fill(-1);
    this.lit = new Int8Array(this.units.length);
    this.ranges = this.shades ? this.nodes.map(rangeOver) : [];
    this.inline = this.nodes.map(() => "");
    this.selectedUnit = this.shownUnit = -1;
    const line = (prompt: boolean, label: string) => {
      const nodes: Node[] = [];
      this.nodes.forEach((node, k) => {
        if (this.units[k].prompt !== prompt) return;
        if (this.units[k].gap && nodes.length) nodes.push(document.createTextNode(" "));
        nodes.push(node);
      });
      return nodes.length ? h("div", { class: "tam-line" }, [h("span", { class: "tam-line-label", text: label }), ...nodes]) : null;
    };
    this.el.replaceChildren(...[line(true, "Prompt"), line(false, "Answer")].filter((n): n is HTMLDivElement => n !== null));
  }

  /**
   * Highlight the selected and shown items and colour the relevance of the shown item's earlier
   * tokens; `reliance` (per item in [0, 1], NaN: none, reliance.ts' relianceUnits) tints the rest.
   */
  update(selected: number, shown: number, text: Float32Array, nText: number, reliance: Float32Array | null = null): void {
    const sel = this.unitOf[selected] ?? -1;
    if (sel !== this.selectedUnit) {
      this.setSelected(this.selectedUnit, false);
      this.setSelected(sel, true);
      this.selectedUnit = sel;
    }
    const shownUnit = this.unitOf[shown] ?? -1;
    if (shownUnit !== this.shownUnit) {
      this.nodes[this.shownUnit]?.classList.remove("is-shown");
      this.nodes[shownUnit]?.classList.add("is-shown");
      this.shownUnit = shownUnit;
    }
    // only units holding an item below nText (now or at the last update) can change, unless a reliance tints the rest
    const next = reliance ? this.units.length : this.unitsBelow(nText);
    const reach = Math.max(this.reach, next);
    this.reach = next;
    const values = this.values;
    for (let k = 0; k < reach; k++) values[k] = unitRelevance(this.units[k], text, nText);
    const top = topUnits(values.subarray(0, reach), TOP_RELEVANT);
    for (let k = 0; k < reach; k++) this.paint(k, values[k], top.indexOf(k) + 1, reliance ? unitReliance(this.units[k].items, reliance) : Number.NaN);
  }

  /** How many units (from the first) hold an item below n: units follow the items' order. */
  private unitsBelow(n: number): number {
    const last = Math.min(n, this.items.length) - 1;
    return last < 0 ? 0 : this.unitOf[last] + 1;
  }

  /** One unit's relevance (a quiet background whose alpha is the value, an underline for the top few, rank 1..) or else its reliance tint. */
  private paint(k: number, value: number, rank: number, tint: number): void {
    const tinted = value < 0 && Number.isFinite(tint);
    const level = value >= 0 ? shadeLevel(value) : -1;
    const colour = tinted ? relianceColour(tint) : "";
    const look = tinted ? `${colour}|${rank}` : 4 * level + rank; // a number for the common case: no string per unit
    if (look === this.looks[k]) return;
    this.looks[k] = look;
    this.shade(k, level, rank > 0, colour);
    const node = this.nodes[k];
    node.classList.toggle("has-relevance", value >= 0);
    node.classList.toggle("has-reliance", tinted);
    if (tinted) node.dataset.reliance = tint.toFixed(3);
    else delete node.dataset.reliance;
    node.classList.toggle("is-top", rank > 0);
    if (rank > 0) node.dataset.rank = String(rank);
    else delete node.dataset.rank;
  }

  /**
   * Unit k's relevance shade (level -1: none) or its tint. Highlights paint the shade where there are
   * any, except under the top few: a highlight repaints the text's decorations in the text colour, and
   * their amber underline must stay amber, so they (at most TOP_RELEVANT) keep an inline background.
   */
  private shade(k: number, level: number, top: boolean, tint: string): void {
    this.levels[k] = level;
    const lit = this.shades && !top ? Math.max(0, level) : 0; // the highlight holding the unit's range (0: none)
    if (this.shades && lit !== this.lit[k]) {
      if (this.lit[k] > 0) this.shades[this.lit[k]].delete(this.ranges[k]);
      if (lit > 0) this.shades[lit].add(this.ranges[k]);
      this.lit[k] = lit;
    }
    this.setInline(k, level >= 0 && (!this.shades || top) ? SHADES[level] : tint);
  }

  private setInline(k: number, colour: string): void {
    if (this.inline[k] === colour) return;
    this.inline[k] = colour;
    this.nodes[k].style.backgroundColor = colour;
  }

  /** Take this view's ranges out of the shared highlights (before a rebuild, and for good). */
  private unshade(): void {
    if (this.shades) this.lit.forEach((level, k) => level > 0 && this.shades?.[level].delete(this.ranges[k]));
    this.lit.fill(0);
    this.levels.fill(-1);
  }

  /** Each token's (unit's, in order) relevance shade as shown: its alpha level (alpha x 100, 0..40), -1 for none; in both paths. */
  shadeLevels(): number[] {
    return Array.from(this.levels);
  }

  /** Whether the shade is painted by CSS highlights (true) or inline backgrounds (false). */
  get highlighted(): boolean {
    return this.shades !== null;
  }

  dispose(): void {
    this.unshade();
    this.el.removeEventListener("click", this.onClick);
    this.el.removeEventListener("mouseover", this.onOver);
    this.el.removeEventListener("mouseleave", this.onLeave);
    this.el.removeEventListener("keydown", this.onKey);
  }

  private setSelected(unit: number, on: boolean): void {
    const node = this.nodes[unit];
    if (!node) return;
    node.classList.toggle("is-selected", on);
    node.setAttribute("aria-selected", String(on));
    node.tabIndex = on ? 0 : -1;
  }

  private unitAt(target: EventTarget | null): number {
    const node = target instanceof Element ? target.closest<HTMLElement>('[data-role="token"]') : null;
    const k = node ? (this.unitOf[Number(node.dataset.index)] ?? -1) : -1; // data-index: the unit's first item
    return k >= 0 && this.nodes[k] === node ? k : -1;
  }

  private readonly onClick = (e: MouseEvent) => {
    const k = this.unitAt(e.target);
    if (k < 0) return;
    this.on.select(this.units[k].first);
    this.nodes[k].focus({ preventScroll: true }); // clicked, so already in view: no scroll to work out
  };

  private readonly onOver = (e: MouseEvent) => {
    const k = this.unitAt(e.target);
    if (k >= 0) this.on.hover(this.units[k].first);
  };

  private readonly onLeave = () => this.on.hover(null);

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return; // Shift+Enter runs the cell, Ctrl+S saves: the host's
    const from = Math.max(0, this.unitAt(e.target) >= 0 ? this.unitAt(e.target) : this.selectedUnit);
    let to: number;
    if (e.key in NEXT) to = from + NEXT[e.key];
    else if (e.key === "Home") to = 0;
    else if (e.key === "End") to = this.units.length - 1;
    else if (e.key === "Enter" || e.key === " ") to = from;
    else return;
    e.preventDefault();
    to = Math.min(this.units.length - 1, Math.max(0, to));
    this.on.hover(null); // the keyboard takes over from a pointer resting on a token
    this.on.select(this.units[to].first);
    this.nodes[to]?.focus();
  };
}
