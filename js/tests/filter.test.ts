import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FilterScratch, filterAny, filterFrame } from "../src/methods/tam-filter";
import { FIXTURE_DIR, MISSING_FIXTURES } from "./fixtures";

interface FilterCase {
  kernel: number;
  height: number;
  width: number;
  map: (number | null)[];
  filtered: (number | null)[];
}

const PATH = join(FIXTURE_DIR, "filter", "maps.json");
const cases: FilterCase[] = existsSync(PATH) ? (JSON.parse(readFileSync(PATH, "utf8")) as { cases: FilterCase[] }).cases : [];
const num = (v: number | null) => (v === null ? NaN : v);

/** |a - b| in float32 ulps of b (at least the smallest normal's). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  return Math.abs(a - b) / Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(b) || 2 ** -126)) - 23));
}

function run(c: FilterCase, fn: typeof filterFrame, scratch = new FilterScratch(c.kernel)): Float32Array {
  const out = new Float32Array(c.map.length);
  fn(Float32Array.from(c.map, num), out, { offset: 0, height: c.height, width: c.width }, scratch);
  return out;
}

it("has the filter fixture written by js/tests/make_fixtures.py", () => {
  if (cases.length === 0) throw new Error(MISSING_FIXTURES);
  expect(new Set(cases.map((c) => c.kernel))).toEqual(new Set([1, 3, 5, 7]));
});

describe.each(cases)("the rank Gaussian filter as the core's: kernel $kernel, $height x $width", (c) => {
  // the same float32 steps as the core's (its fused multiply-adds included): only exp may round the other way
  // (1 ulp), which the weights' powers carry a few ulps further
  it("gives the core's float32 values: nearly all exactly, the rest within a few ulps (the page's path and the any-k path)", () => {
    for (const fn of [filterFrame, filterAny]) {
      const got = run(c, fn);
      const diffs = c.filtered.map((want, i) => ulps(got[i], num(want)));
      expect(Math.max(...diffs), `${fn.name}: max ulps from Python`).toBeLessThanOrEqual(8);
      expect(diffs.filter((d) => d === 0).length / diffs.length, `${fn.name}: share exactly equal`).toBeGreaterThanOrEqual(0.98);
    }
  });
});

describe("the 3 x 3 path", () => {
  it("equals the any-k path bit for bit, frames at any offset, the scratch reused across sizes", () => {
    const scratch = new FilterScratch(3);
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) ** 3;
    for (const [h, w] of [[1, 1], [1, 2], [2, 1], [2, 2], [3, 3], [5, 1], [7, 13], [32, 36], [4, 4]]) {
      const src = Float32Array.from({ length: 5 + h * w }, (_, i) => (i % 11 === 3 ? 0 : rand()));
      const frame = { offset: 5, height: h, width: w };
      const fast = new Float32Array(src.length);
      const any = new Float32Array(src.length);
      filterFrame(src, fast, frame, scratch);
      filterAny(src, any, frame, scratch);
      expect([...fast.subarray(5)], `${h} x ${w}`).toEqual([...any.subarray(5)]);
      expect([...fast.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]); // only the frame is written
    }
  });
});
