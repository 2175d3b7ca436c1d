// @vitest-environment jsdom
/**
 * A slider drag's text shading (drag.ts, tokens.ts): a switch and a lone settings step paint at once;
 * a drag's rapid steps paint their latest values at most every THROTTLE_MS, inline (highlights would be
 * rebuilt on every frame), and once more when the drag settles, back in the highlights; a switch ends
 * a drag at once; a rebuild and dispose leave no timer behind. Fake timers, Date as the clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ItemMeta } from "../src/codec";
import { DragThrottle, SETTLE_MS, THROTTLE_MS } from "../src/views/drag";
import { type RangeSet, TokenView } from "../src/views/tokens";

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

function throttle() {
  const painted: number[] = [];
  const hooks: string[] = [];
  const t = new DragThrottle({ start: () => hooks.push("start"), settle: () => hooks.push("settle") }, () => Date.now());
  return { t, painted, hooks, paint: (v: number) => () => painted.push(v) };
}

describe("DragThrottle", () => {
  it("paints a switch and a lone step at once", () => {
    const { t, painted, hooks, paint } = throttle();
    t.now(paint(1));
    expect(painted).toEqual([1]);
    vi.advanceTimersByTime(SETTLE_MS + 1);
    t.step(paint(2));
    expect(painted).toEqual([1, 2]);
    expect(hooks).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("paints a drag's latest values at most every THROTTLE_MS, then once when it settles", () => {
    const { t, painted, hooks, paint } = throttle();
    for (let i = 0; i < 20; i++) {
      t.step(paint(i)); // a step every 16 ms: 320 ms of drag
      vi.advanceTimersByTime(16);
    }
    expect(hooks).toEqual(["start"]);
    expect(painted[0]).toBe(0); // the first step: a lone one, at once
    expect(painted.length).toBeLessThanOrEqual(1 + Math.ceil((20 * 16) / THROTTLE_MS));
    expect(painted.length).toBeGreaterThanOrEqual(3); // the drag's text follows it
    const before = painted.length;
    vi.advanceTimersByTime(SETTLE_MS);
    expect(hooks).toEqual(["start", "settle"]);
    expect(painted.length).toBe(before + 1);
    expect(painted.at(-1)).toBe(19); // the trailing paint: the latest step's
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a switch during a drag ends it and paints at once; a step's stale paint never runs after", () => {
    const { t, painted, hooks, paint } = throttle();
    t.step(paint(1));
    vi.advanceTimersByTime(10);
    t.step(paint(2)); // within THROTTLE_MS of the first: waits
    expect(painted).toEqual([1]);
    t.now(paint(3));
    expect(painted).toEqual([1, 3]);
    expect(hooks).toEqual(["start", "settle"]);
    vi.advanceTimersByTime(SETTLE_MS * 2);
    expect(painted).toEqual([1, 3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("cancel leaves no timer and paints nothing more", () => {
    const { t, painted, paint } = throttle();
    t.step(paint(1));
    t.step(paint(2));
    expect(vi.getTimerCount()).toBe(1);
    t.cancel();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(SETTLE_MS * 2);
    expect(painted).toEqual([1]);
  });
});

describe("TokenView during a drag", () => {
  const items: ItemMeta[] = Array.from({ length: 10 }, (_, i) => ({ text: `t${i}`, position: i, word: i, prompt: i < 2 }));
  const values = (scale: number) => Float32Array.from({ length: 10 }, (_, i) => ((i * 7 + 3) % 10) / 10 * scale);
  const fakeShades = () => Array.from({ length: 41 }, () => new Set<AbstractRange>());
  const ranged = (shades: Set<AbstractRange>[]) => shades.reduce((n, s) => n + s.size, 0);

  function view() {
    const shades = fakeShades();
    const v = new TokenView(items, { select() {}, hover() {} }, () => false, shades as RangeSet[], () => Date.now());
    v.render(false);
    return { v, shades };
  }

  /** The levels a fresh view shows for these values (no drag). */
  function fresh(text: Float32Array): number[] {
    const { v } = view();
    v.update(9, 9, text, 9);
    return v.shadeLevels();
  }

  it("paints inline while dragging and ends with the levels of a fresh update, back in the highlights", () => {
    const { v, shades } = view();
    v.update(9, 9, values(1), 9);
    expect(v.highlighted).toBe(true);
    expect(ranged(shades)).toBeGreaterThan(0);
    for (let i = 1; i <= 12; i++) {
      v.update(9, 9, values(1 - i / 20), 9); // the same token, new values: a drag of the slider
      vi.advanceTimersByTime(16);
    }
    expect(v.highlighted).toBe(false); // inline meanwhile: no range in the highlights
    expect(ranged(shades)).toBe(0);
    expect(v.el.classList.contains("is-inline-shade")).toBe(true); // drawn where the highlights draw (widget.css)
    vi.advanceTimersByTime(SETTLE_MS);
    expect(v.highlighted).toBe(true);
    expect(v.el.classList.contains("is-inline-shade")).toBe(false);
    expect(v.shadeLevels()).toEqual(fresh(values(1 - 12 / 20)));
    expect(ranged(shades)).toBeGreaterThan(0);
    const spans = [...v.el.querySelectorAll<HTMLElement>('[data-role="token"]')];
    spans.forEach((s) => expect(s.style.backgroundColor === "").toBe(!s.classList.contains("is-top"))); // only the top few inline
  });

  it("a switch during a drag paints at once, in the highlights; dispose leaves no timer and no range", () => {
    const { v, shades } = view();
    v.update(9, 9, values(1), 9);
    v.update(9, 9, values(0.5), 9);
    v.update(9, 9, values(0.4), 9);
    expect(vi.getTimerCount()).toBe(1);
    v.update(6, 6, values(0.8), 6); // another token
    expect(v.highlighted).toBe(true);
    expect(v.shadeLevels()).toEqual((() => {
      const { v: w } = view();
      w.update(6, 6, values(0.8), 6);
      return w.shadeLevels();
    })());
    expect(vi.getTimerCount()).toBe(0);
    v.update(6, 6, values(0.3), 6);
    v.update(6, 6, values(0.2), 6);
    v.dispose();
    expect(vi.getTimerCount()).toBe(0);
    expect(ranged(shades)).toBe(0);
  });
});
