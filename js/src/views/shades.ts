/**
 * The relevance shade of each token (unit) as painted: by the CSS Custom Highlight API where the
 * browser has it (one highlight per alpha level, ::highlight(tam-shade-N) in widget.css, shared by
 * every token view in the document), else by the span's inline background.
 *
 * Highlights make a token switch cheap (ranges move between highlights; no span is restyled: an inline
 * background per span cost ~5-10 µs each, ~19 ms at 2,048 tokens), but Chromium rebuilds every
 * highlight's markers, and repaints every shaded token, on each frame in which anything in the document
 * changed (any DOM or style change: ~15-20 ms with ~1,000 shaded tokens, whether or not a range moved).
 * A slider drag changes the page on every frame, so while one lasts the shade is painted inline
 * (`inline(true)`: a restyle of the shaded spans once) and goes back to the highlights when it settles.
 */

/** The relevance shade: one hue (amber, legible under dark and light text), at most this opaque. */
const RELEVANCE_RGB = "245, 158, 11";
export const MAX_ALPHA = 0.4;

/** relevanceColour's alpha level (its alpha x 100) for a value in [0, 1]. */
export function shadeLevel(value: number): number {
  return Math.round(100 * MAX_ALPHA * Math.min(1, Math.max(0, value)));
}

/** A relevance value in [0, 1] as the token's background colour: alpha = MAX_ALPHA x value, two decimals. */
export function relevanceColour(value: number): string {
  return `rgba(${RELEVANCE_RGB}, ${shadeLevel(value) / 100})`;
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

/** Each token's shade (or tint) on its span, through the highlights or inline; writes only what changed. */
export class ShadePainter {
  private nodes: HTMLElement[] = [];
  private levels = new Int8Array(0); // each unit's shade level as shown (-1: no relevance)
  private tops = new Uint8Array(0); // the top few keep an inline background (see set())
  private tints: string[] = []; // each unit's reliance tint ("" when none)
  private lit = new Int8Array(0); // the shade highlight holding each unit's range (0: none)
  private ranges: AbstractRange[] = []; // each unit's range in the shade highlights (with highlights only)
  private backgrounds: string[] = []; // each unit's inline background as set
  private inlined = false; // inline(true): the shade painted inline although there are highlights

  constructor(private readonly shades: RangeSet[] | null) {}

  /** Whether the browser has the highlights (inline(true) paints inline all the same). */
  get hasHighlights(): boolean {
    return this.shades !== null;
  }

  /** Whether the shade is painted by highlights now (false: inline backgrounds). */
  get highlighted(): boolean {
    return this.shades !== null && !this.inlined;
  }

  /** New spans (after a rebuild): none shaded, the highlights in use again. */
  reset(nodes: HTMLElement[]): void {
    this.clear();
    this.nodes = nodes;
    this.levels = new Int8Array(nodes.length).fill(-1);
    this.tops = new Uint8Array(nodes.length);
    this.tints = nodes.map(() => "");
    this.lit = new Int8Array(nodes.length);
    this.ranges = this.shades ? nodes.map(rangeOver) : [];
    this.backgrounds = nodes.map(() => "");
    this.inlined = false;
  }

  /**
   * Unit k's relevance shade (level -1: none) or its tint. Highlights paint the shade where in use,
   * except under the top few: a highlight repaints the text's decorations in the text colour, and
   * their amber underline must stay amber, so they (at most TOP_RELEVANT) keep an inline background.
   */
  set(k: number, level: number, top: boolean, tint: string): void {
    this.levels[k] = level;
    this.tops[k] = top ? 1 : 0;
    this.tints[k] = tint;
    this.place(k);
  }

  /** Paint the shade inline (true) or through the highlights again (false); moves every shaded unit once. */
  inline(on: boolean): void {
    if (!this.shades || on === this.inlined) return;
    this.inlined = on;
    this.levels.forEach((level, k) => level >= 0 && this.place(k));
  }

  /** Each unit's shade level as shown: alpha x 100 (0..40), -1 for none. */
  shown(): number[] {
    return Array.from(this.levels);
  }

  /** Take the ranges out of the shared highlights (before a rebuild, and for good). */
  clear(): void {
    if (this.shades) this.lit.forEach((level, k) => level > 0 && this.shades?.[level].delete(this.ranges[k]));
    this.lit.fill(0);
    this.levels.fill(-1);
  }

  private place(k: number): void {
    const level = this.levels[k];
    const lit = this.highlighted && !this.tops[k] ? Math.max(0, level) : 0; // the highlight holding the unit's range (0: none)
    if (this.shades && lit !== this.lit[k]) {
      if (this.lit[k] > 0) this.shades[this.lit[k]].delete(this.ranges[k]);
      if (lit > 0) this.shades[lit].add(this.ranges[k]);
      this.lit[k] = lit;
    }
    this.background(k, level >= 0 && (!this.highlighted || this.tops[k]) ? SHADES[level] : this.tints[k]);
  }

  private background(k: number, colour: string): void {
    if (this.backgrounds[k] === colour) return;
    this.backgrounds[k] = colour;
    this.nodes[k].style.backgroundColor = colour;
  }
}
