// @vitest-environment jsdom
/**
 * The relevance shade through CSS highlights (tokens.ts): one highlight per alpha level holds each
 * shaded token's range, the top few keep an inline background (their amber underline), and the levels
 * are the ones the inline fallback paints; ranges are re-made when the tokens are rebuilt and leave the
 * shared highlights when the view goes. widget.css colours each highlight as the fallback would.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ItemMeta } from "../src/codec";
import { type RangeSet, relevanceColour, SHADE_HIGHLIGHT, TokenView } from "../src/views/tokens";

const LEVELS = 40;
const items: ItemMeta[] = ["a", "b", "c", "d", "e", "f", "g", "h"].map((text, i) => ({ text, position: i, word: i >> 1, prompt: i < 3 }));
const ALPHA = /^rgba\(245, 158, 11, (0(\.\d+)?)\)$/;

/** The document's highlights stand-in: a Set per level. */
const fakeShades = () => Array.from({ length: LEVELS + 1 }, () => new Set<AbstractRange>());

function views() {
  const shades = fakeShades();
  const lit = new TokenView(items, { select() {}, hover() {} }, () => false, shades as RangeSet[]);
  const inline = new TokenView(items, { select() {}, hover() {} }, () => false, null);
  return { shades, lit, inline };
}

const spans = (v: TokenView) => [...v.el.querySelectorAll<HTMLElement>('[data-role="token"]')];
/** Each token's level as painted: the highlight holding its range, else its inline alpha x 100, else -1. */
function painted(v: TokenView, shades: Set<AbstractRange>[] | null): number[] {
  return spans(v).map((node) => {
    const level = shades?.findIndex((set) => [...set].some((r) => r.startContainer === node)) ?? -1;
    const m = ALPHA.exec(node.style.backgroundColor);
    return level >= 0 ? level : m ? Math.round(100 * Number(m[1])) : -1;
  });
}

describe("relevance through CSS highlights", () => {
  const text = Float32Array.from([0.3, 0.9, 0.05, 0.5, 0.7, 0.42, 0.11, 0]);

  it("puts each shaded token's range in the highlight of its level: the levels the inline fallback paints", () => {
    const { shades, lit, inline } = views();
    for (const v of [lit, inline]) {
      v.render(false);
      v.update(7, 7, text, 7);
    }
    const expected = [12, 36, 2, 20, 28, 17, 4, -1]; // round(40 x value); the shown token: none
    expect(inline.shadeLevels()).toEqual(expected);
    expect(lit.shadeLevels()).toEqual(expected);
    expect(painted(inline, null)).toEqual(expected);
    expect(painted(lit, shades)).toEqual(expected.map((l) => (l > 0 ? l : -1)));
    const tops = spans(lit).map((s) => s.classList.contains("is-top"));
    spans(lit).forEach((s, k) => expect(s.style.backgroundColor !== "").toBe(tops[k])); // only the top few inline
    expect(shades.reduce((n, s) => n + s.size, 0)).toBe(7 - 3);
    lit.update(7, 2, text, 2); // another shown item: ranges move, none left behind
    inline.update(7, 2, text, 2);
    expect(lit.shadeLevels()).toEqual(inline.shadeLevels());
    expect(painted(lit, shades)).toEqual([12, 36, -1, -1, -1, -1, -1, -1]);
  });

  it("re-makes the ranges when the tokens are rebuilt, and takes them out when the view goes", () => {
    const { shades, lit, inline } = views();
    lit.render(false);
    lit.update(7, 7, text, 7);
    for (const v of [lit, inline]) {
      v.render(true); // words: units of two tokens
      v.update(7, 7, text, 7);
    }
    const ranges = shades.flatMap((s) => [...s]);
    expect(ranges.every((r) => spans(lit).includes(r.startContainer as HTMLElement))).toBe(true); // none of the old spans
    expect(lit.shadeLevels()).toEqual(inline.shadeLevels());
    expect(painted(lit, shades)).toEqual(inline.shadeLevels().map((l, k) => (spans(lit)[k].classList.contains("is-top") ? l : l > 0 ? l : -1)));
    lit.dispose();
    expect(shades.every((s) => s.size === 0)).toBe(true);
  });

  it("widget.css colours highlight N as the inline shade of level N, for every level", () => {
    const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "src", "widget.css"), "utf8");
    const rules = [...css.matchAll(/::highlight\(([\w-]+)\)\s*\{\s*background-color:\s*([^;]+);\s*\}/g)].map((m) => [m[1], m[2]]);
    expect(rules).toEqual(Array.from({ length: LEVELS }, (_, i) => [`${SHADE_HIGHLIGHT}${i + 1}`, relevanceColour((i + 1) / LEVELS)]));
  });
});
