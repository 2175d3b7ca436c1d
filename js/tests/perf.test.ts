// @vitest-environment jsdom
/**
 * Performance without clocks, on the large case (T = 276 items, two images of 36 x 36
 * cells): how much work each change does. A change computes at most one map, a repeat request
 * or a colour / opacity change computes none, maps reuse their buffers and a token switch keeps
 * the token elements. Timings belong to the real browser: benchmarks/bench_widget.py.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { decode } from "../src/codec";
import { TamMaps } from "../src/methods/tam";
import { MapState } from "../src/state/derived";
import widget from "../src/widget";
import { fakeModel, syntheticCase } from "./helpers";
import { installMockCanvas } from "./mock-canvas";

const big = syntheticCase({ nPrompt: 20, nAnswer: 256, grids: [[36, 36], [36, 36]], seed: 7 });
const TAM = { eciScale: 1, eci: true, filter: true };

afterEach(() => vi.restoreAllMocks());

function mount() {
  installMockCanvas();
  const computes = vi.spyOn(TamMaps.prototype, "compute");
  const model = fakeModel(big);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const stop = widget.render({ model: model.asModel(), el });
  const slider = el.querySelector<HTMLInputElement>('[data-role="eci-scale"]');
  const tokens = () => [...el.querySelectorAll<HTMLElement>('[data-role="token"]')];
  return { model, el, stop, computes, slider, tokens };
}

/** How many maps fn computed. */
function work(computes: { mock: { calls: unknown[] } }, fn: () => void): number {
  const before = computes.mock.calls.length;
  fn();
  return computes.mock.calls.length - before;
}

describe("work done on the large case", () => {
  it("computes every item's map into the same buffers, once per new item or setting", () => {
    const state = new MapState(decode(big.data, big.meta).shown);
    const first = state.map(0, TAM).image;
    for (let v = 0; v < 276; v++) expect(state.map(v, TAM).image).toBe(first); // no new arrays per item
    expect(state.computeCount).toBe(276);
    for (let i = 0; i <= 200; i++) state.map(100, { ...TAM, eciScale: i / 100 });
    expect(state.computeCount).toBe(276 + 201);
    state.map(100, { ...TAM, eciScale: 2 });
    expect(state.computeCount).toBe(477); // a repeat request computes nothing
  });

  it("redraws a token switch or a slider step with one map, and colour or opacity with none", () => {
    const { model, stop, computes, slider, tokens } = mount();
    expect(computes).toHaveBeenCalledTimes(1); // the first render
    const nodes = tokens();
    expect(work(computes, () => model.set("selected", 100))).toBe(1);
    expect(work(computes, () => model.set("selected", 100))).toBe(0);
    expect(tokens()).toEqual(nodes); // the same elements: a switch restyles, never rebuilds
    const steps = work(computes, () => {
      for (let i = 0; i < 10; i++) {
        if (!slider) throw new Error("no slider");
        slider.value = String(i / 10);
        slider.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    expect(steps).toBe(10);
    expect(work(computes, () => model.set("opacity", 0.3))).toBe(0);
    expect(work(computes, () => model.set("colormap", "viridis"))).toBe(0);
    expect(work(computes, () => model.set("group_words", true))).toBe(0);
    stop();
  });

  it("hovering the shown token computes nothing; another token costs one map there and one back", () => {
    const { model, el, stop, computes, tokens } = mount();
    model.set("selected", 30);
    const hover = (i: number) => tokens()[i].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(work(computes, () => hover(30))).toBe(0);
    expect(work(computes, () => hover(31))).toBe(1);
    expect(work(computes, () => el.querySelector('[data-role="tokens"]')?.dispatchEvent(new MouseEvent("mouseleave")))).toBe(1);
    stop();
  });
});
