// @vitest-environment jsdom
/**
 * What keeps a token switch and an ECI slider step inside one frame on large pages (issue 16, part 4),
 * guarded by behaviour, without clocks: a token update writes only the spans whose look changed, the
 * top few are found in one pass with the same ranks as a sort, the heat layer's run-based raster
 * gives the pixels of the plain per-pixel one into the same ImageData, the controls are not
 * rewritten by a switch, and selecting a token changes no text metric (no re-layout of the answer).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ItemMeta } from "../src/codec";
import { packedLut } from "../src/colormap";
import { axis, HeatLayer, nearestAxis } from "../src/views/raster";
import { MIN_TOP, TokenView, topUnits } from "../src/views/tokens";
import { FULL, type Viewport } from "../src/views/zoom";
import widget from "../src/widget";
import { fakeModel, syntheticCase } from "./helpers";
import { installMockCanvas } from "./mock-canvas";

afterEach(() => {
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

/** The style writes (attribute mutations) under `root` while fn runs. */
function writes(root: Node, fn: () => void): Set<Node> {
  const seen = new Set<Node>();
  const observer = new MutationObserver(() => {});
  observer.observe(root, { subtree: true, attributes: true, childList: true, characterData: true });
  fn();
  for (const r of observer.takeRecords()) seen.add(r.target);
  observer.disconnect();
  return seen;
}

describe("token updates touch only what changed", () => {
  const items: ItemMeta[] = Array.from({ length: 12 }, (_, i) => ({ text: `t${i}`, position: i, word: i, prompt: i < 2 }));
  const view = () => {
    let now = 0; // each update a lone one, a second after the last (a drag's throttle: drag.test.ts)
    const v = new TokenView(items, { select() {}, hover() {} }, undefined, null, () => (now += 1000));
    v.render(false);
    return { v, nodes: [...v.el.querySelectorAll<HTMLElement>('[data-role="token"]')] };
  };

  it("a repeated update writes nothing; a new one writes only the spans whose shade or rank changed", () => {
    const { v, nodes } = view();
    const text = Float32Array.from([0.5, 0.05, 0.02, 0.9, 0.3, 0, 0, 0, 0, 0, 0, 0]);
    v.update(5, 5, text, 5);
    expect(writes(v.el, () => v.update(5, 5, text, 5)).size).toBe(0);
    const next = Float32Array.from(text);
    next[2] = 0.021; // the same alpha level (0.01): not written
    next[4] = 0.6; // a new level and a new top rank
    const touched = writes(v.el, () => v.update(5, 5, next, 5));
    expect(touched.has(nodes[4])).toBe(true);
    expect(touched.has(nodes[2])).toBe(false);
    expect([...touched].every((n) => nodes.indexOf(n as HTMLElement) <= 4)).toBe(true); // nothing past the shown relevance
  });

  it("a shorter relevance clears the spans it no longer reaches", () => {
    const { v, nodes } = view();
    v.update(9, 9, Float32Array.from({ length: 12 }, (_, i) => (i < 9 ? 0.5 + i / 20 : 0)), 9);
    expect(nodes[7].style.backgroundColor).not.toBe("");
    v.update(3, 3, Float32Array.from({ length: 12 }, () => 0.7), 3);
    expect(nodes.slice(3).map((n) => [n.style.backgroundColor, n.classList.contains("is-top"), n.classList.contains("has-relevance")])).toEqual(nodes.slice(3).map(() => ["", false, false]));
  });

  it("the top few in one pass rank as the sort did (largest first, ties to the earlier, NaN and small values never)", () => {
    const sorted = (values: number[], k: number) =>
      values
        .map((_, i) => i)
        .filter((i) => values[i] >= MIN_TOP)
        .sort((a, b) => values[b] - values[a] || a - b)
        .slice(0, k);
    let seed = 3;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 30);
      const values = Array.from({ length: n }, () => (rnd() < 0.1 ? Number.NaN : Math.round(rnd() * 8) / 8)); // many ties
      for (const k of [0, 1, 3, 5]) expect(topUnits(values, k)).toEqual(sorted(values, k));
    }
  });
});

/** The heat layer's pixels, as the plain loop computes them: every pixel interpolated on its own. */
function plainRaster(map: Float32Array, rows: number, cols: number, width: number, height: number, smooth: boolean, v: Viewport, table: Uint32Array): Uint32Array {
  const f = smooth ? axis : nearestAxis;
  const xs = f(width, cols, 0, 1, v.x, 1 / v.z);
  const ys = f(height, rows, 0, 1, v.y, 1 / v.z);
  const out = new Uint32Array(width * height);
  for (let y = ys.start; y < ys.end; y++) {
    for (let x = xs.start; x < xs.end; x++) {
      const at = (r: number, c: number) => map[r * cols + c];
      const a = at(ys.i0[y], xs.i0[x]) + ys.t[y] * (at(ys.i1[y], xs.i0[x]) - at(ys.i0[y], xs.i0[x]));
      const b = at(ys.i0[y], xs.i1[x]) + ys.t[y] * (at(ys.i1[y], xs.i1[x]) - at(ys.i0[y], xs.i1[x]));
      const row = new Float32Array([a, b]); // the layer interpolates rows into float32 first
      const val = row[0] + xs.t[x] * (row[1] - row[0]);
      out[y * width + x] = table[val > 0 ? (val < 1 ? (val * 255) | 0 : 255) : 0];
    }
  }
  return out;
}

describe("the heat layer", () => {
  it("rasterises run by run to the same pixels as pixel by pixel, into one reused ImageData", () => {
    const contexts = installMockCanvas();
    const [rows, cols, width, height] = [7, 9, 61, 47];
    const map = Float32Array.from({ length: rows * cols }, (_, i) => ((i * 37) % 23) / 22);
    const table = packedLut("jet");
    const layer = new HeatLayer(width, height, rows, cols, [0, 0, 1, 1]);
    const ctx = contexts.get(layer.canvas);
    if (!ctx) throw new Error("no context");
    const created = vi.spyOn(ctx, "createImageData");
    for (const smooth of [true, false]) {
      for (const v of [FULL, { x: 0.2, y: 0.1, z: 2.5 }]) {
        layer.paint({ map, offset: 0, table, smooth }, v);
        const img = ctx.images.at(-1) as ImageData;
        const got = new Uint32Array(img.data.buffer, img.data.byteOffset, width * height);
        expect(Array.from(got)).toEqual(Array.from(plainRaster(map, rows, cols, width, height, smooth, v, table)));
      }
    }
    expect(created).toHaveBeenCalledTimes(1); // the pixels are reused draw after draw
    expect(new Set(ctx.images).size).toBe(1);
  });
});

describe("a token switch on the whole widget", () => {
  it("leaves the controls untouched", () => {
    installMockCanvas();
    const c = syntheticCase({ nPrompt: 4, nAnswer: 20, grids: [[6, 8]] });
    const model = fakeModel(c);
    const el = document.createElement("div");
    document.body.appendChild(el);
    const stop = widget.render({ model: model.asModel(), el });
    const controls = el.querySelector('[data-role="controls"]') as HTMLElement;
    for (const item of [6, 9, 15]) expect(writes(controls, () => model.set("selected", item)).size).toBe(0);
    stop();
  });

  it("selecting a token changes none of its text metrics: the answer is not laid out again", () => {
    const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "src", "widget.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const rules = [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)].filter(([, sel]) => /\.tam-token[^,{]*\.is-(selected|shown|top)|\.tam-token:focus/.test(sel));
    expect(rules.length).toBeGreaterThan(0);
    for (const [, sel, body] of rules) expect([sel.trim(), body]).not.toEqual([sel.trim(), expect.stringMatching(/font(-weight|-size|-family)?\s*:|letter-spacing|padding|border-width|margin/)]);
  });
});
