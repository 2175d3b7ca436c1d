/**
 * The prompt and the answer as focusable tokens (or words): click and arrow keys select, hover
 * previews, and the shown item's relevance on earlier tokens shades them quietly: one amber hue
 * whose alpha is the value, the top few underlined (is-top, data-rank). A whitespace-only token
 * shows visible marks (⏎, ·) and a special answer token (the end of turn, <|im_end|>) is set apart;
 * a token below the noise floor (no visual signal) is muted; the title always holds the true text.
 * A method with a reliance on the image per token (EAGLE) tints the tokens it explained instead
 * (reliance.ts) wherever no relevance is shown.
 *
 * The shade is painted by shades.ts (CSS highlights where the browser has them, else inline
 * backgrounds); while a slider drags, the text's shade follows at most every ~100 ms and once when
 * the drag settles (drag.ts), inline meanwhile: a switch paints at once.
 */

import type { ItemMeta } from "../codec";
import { h } from "./dom";
import { DragThrottle } from "./drag";
import { relianceColour, unitReliance } from "./reliance";
import { keyTarget, tokenLines, type TokenUnit, tokenUnits, UnitMarks, unitRelevance, unitSpan } from "./token-units";
import { documentShades, type RangeSet, ShadePainter, shadeLevel } from "./shades";

export { MAX_ALPHA, type RangeSet, relevanceColour, SHADE_HIGHLIGHT } from "./shades";

/** How many of the most relevant earlier tokens are emphasised, and the least value that counts as relevant at all. */
export const TOP_RELEVANT = 3;
export const MIN_TOP = 0.1;

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

/** The look of a unit with neither relevance nor tint (paint's numeric key for level -1, rank 0). */
const BLANK = -4;

interface TokenCallbacks {
  select(item: number): void;
  hover(item: number | null): void;
}

export class TokenView {
  readonly el: HTMLElement;
  private units: TokenUnit[] = [];
  private nodes: HTMLElement[] = [];
  private unitOf = new Int32Array(0); // item -> unit index
  private looks: (number | string)[] = []; // what each unit is painted with (a number when untinted), to skip unchanged ones
  private values = new Float64Array(0); // each unit's relevance at the last update (reused)
  private reach = 0; // units [0, reach) may hold relevance: those with an item below the last nText
  private readonly marks = new UnitMarks();
  private readonly painter: ShadePainter;
  private readonly drag: DragThrottle;
  private painted = false; // whether the spans show an update yet (the first one after a rebuild paints at once)
  private selectedUnit = -1;
  private shownUnit = -1;

  constructor(
    private readonly items: ItemMeta[],
    private readonly on: TokenCallbacks,
    private readonly noSignal: (item: number) => boolean = () => false,
    shades: RangeSet[] | null = documentShades(),
    clock?: () => number,
  ) {
    this.painter = new ShadePainter(shades);
    this.drag = new DragThrottle({ start: () => this.inlineShade(true), settle: () => this.inlineShade(false) }, clock);
    this.el = h("div", { class: "tam-tokens", role: "tokens", attrs: { role: "listbox", "aria-label": "Tokens" } });
    this.el.addEventListener("click", this.onClick);
    this.el.addEventListener("mouseover", this.onOver);
    this.el.addEventListener("mouseleave", this.onLeave);
    this.el.addEventListener("keydown", this.onKey);
  }

  /** While a drag lasts, the shade inline; is-inline-shade (widget.css) draws it where the highlights do (the text's box only). */
  private inlineShade(on: boolean): void {
    this.painter.inline(on);
    this.el.classList.toggle("is-inline-shade", on && this.painter.hasHighlights);
  }

  /** Rebuild the token elements (on start and when word grouping changes). */
  render(group: boolean): void {
    this.drag.cancel();
    this.el.classList.remove("is-inline-shade");
    this.units = tokenUnits(this.items, group);
    this.unitOf = new Int32Array(this.items.length);
    this.nodes = this.units.map((u, k) => {
      for (const i of u.items) this.unitOf[i] = k;
      return unitSpan(u, this.items, u.items.every((i) => this.noSignal(i))); // below the noise floor: muted (signal.py)
    });
    this.looks = this.nodes.map(() => BLANK); // as built: no shade, no tint, no rank
    this.values = new Float64Array(this.units.length);
    this.reach = 0;
    this.marks.reset(this.nodes);
    this.painter.reset(this.nodes);
    this.painted = false;
    this.selectedUnit = this.shownUnit = -1;
    this.el.replaceChildren(...tokenLines(this.units, this.nodes));
  }

  /**
   * Highlight the selected and shown items and colour the relevance of the shown item's earlier
   * tokens; `reliance` (per item in [0, 1], NaN: none, reliance.ts' relianceUnits) tints the rest.
   * A new selected or shown token paints at once; an update for the same ones (a settings step)
   * waits while a slider drags (drag.ts; `text` is copied).
   */
  update(selected: number, shown: number, text: Float32Array, nText: number, reliance: Float32Array | null = null): void {
    const sel = this.unitOf[selected] ?? -1;
    const step = this.painted && sel === this.selectedUnit && (this.unitOf[shown] ?? -1) === this.shownUnit;
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
    this.painted = true;
    if (!step) return this.drag.now(() => this.paintAll(text, nText, reliance));
    const copy = text.slice(0, nText);
    this.drag.step(() => this.paintAll(copy, nText, reliance));
  }

  /** The relevance of the shown item on every unit it reaches (or a reliance tint), written where it changed. */
  private paintAll(text: Float32Array, nText: number, reliance: Float32Array | null): void {
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
    this.painter.set(k, level, rank > 0, colour);
    this.marks.set(k, value >= 0, tinted ? tint.toFixed(3) : "", rank);
  }

  /** Each token's (unit's, in order) relevance shade as shown: its alpha level (alpha x 100, 0..40), -1 for none; in both paths. */
  shadeLevels(): number[] {
    return this.painter.shown();
  }

  /** Whether the shade is painted by CSS highlights now (true) or inline backgrounds (false: no highlights, or a drag is on). */
  get highlighted(): boolean {
    return this.painter.highlighted;
  }

  dispose(): void {
    this.drag.cancel();
    this.painter.clear();
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
    const to = keyTarget(e.key, from, this.units.length);
    if (to === null) return;
    e.preventDefault();
    this.on.hover(null); // the keyboard takes over from a pointer resting on a token
    this.on.select(this.units[to].first);
    this.nodes[to]?.focus();
  };
}
