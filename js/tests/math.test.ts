import { describe, expect, it } from "vitest";
import { FilterScratch, filterFrame, reflectIndex } from "../src/methods/tam-filter";
import { computeItem, correctInto, interferenceInto, normaliseInto, type TamData, Workspace } from "../src/methods/tam-math";
import type { Rows } from "../src/methods/tam-rows";
import { toU8 } from "./fixtures";
import { denseTamData } from "./helpers";

/** Rows holding A exactly: every value here is a multiple of 2^-10 within 64 of its row's minimum. */
function exact(A: number[][]): Rows {
  const n = A[0].length;
  const lo = Float32Array.from(A, (row) => Math.min(...row));
  const q = Uint16Array.from(A.flatMap((row, k) => row.map((x) => (x - lo[k]) * 1024)));
  return { q, lo, step: new Float32Array(A.length).fill(2 ** -10), n };
}

function data(A: number[][], omega: number[][], scale: number[], R: number[][], nVisible: number[], h: number, w: number): TamData {
  const f = (x: number[][]) => Float32Array.from(x.flat());
  return denseTamData(f(A), f(omega), Float32Array.from(scale), f(R), Int32Array.from(nVisible), [{ offset: 0, height: h, width: w }], 3, exact(A));
}

describe("TAM math", () => {
  it("reflect-pads like numpy's 'reflect' (and n = 1 repeats index 0)", () => {
    expect([...reflectIndex(5, 1)]).toEqual([1, 0, 1, 2, 3, 4, 3]);
    expect([...reflectIndex(2, 3)]).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    expect([...reflectIndex(1, 2)]).toEqual([0, 0, 0, 0, 0]);
  });

  it("ECI subtracts lambda * s * E, clamps at 0, treats NaN scale as no ECI, and lambda 0 leaves A as is", () => {
    const d = data([[1, -1], [2, 3]], [[0, 0], [1, 0]], [NaN, 0.5], [[0, 0], [0, 0]], [0, 1], 1, 2);
    const out = new Float32Array(2);
    const E = Float32Array.from([4, 1]);
    correctInto(out, d, 1, 1, E);
    expect([...out]).toEqual([0, 2.5]);
    correctInto(out, d, 1, 2, E);
    expect([...out]).toEqual([0, 2]);
    correctInto(out, d, 0, 1, E);
    expect([...out]).toEqual([1, 0]); // NaN scale: no correction, only the clamp
    correctInto(out, d, 0, 0, E);
    expect([...out]).toEqual([1, -1]); // lambda 0: A unchanged, as the core returns it
  });

  it("forms E_v = omega_v @ A from the weights, once per item", () => {
    const d = data([[1, -1, 2], [2, 3, 0], [5, 5, 5]], [[0, 0, 0], [1, 0, 0], [0.25, 0.75, 0]], [NaN, 1, 1], [[0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 1, 2], 1, 3);
    const E = new Float32Array(3);
    interferenceInto(E, d, 2);
    expect([...E]).toEqual([1.75, 2, 0.5]);
    interferenceInto(E, d, 0);
    expect([...E]).toEqual([0, 0, 0]); // no context: no interference
    const ws = new Workspace(3, 3, 3);
    computeItem(d, 1, { lambda: 1, filter: false }, ws);
    expect([ws.eItem, ...ws.interference]).toEqual([1, 1, -1, 2]);
    ws.interference[0] = 99; // a cached E is reused while the item stays the same ...
    computeItem(d, 1, { lambda: 0.5, filter: false }, ws);
    expect(ws.interference[0]).toBe(99);
    computeItem(d, 2, { lambda: 0.5, filter: false }, ws); // ... and recomputed for a new item
    expect([...ws.interference]).toEqual([1.75, 2, 0.5]);
  });

  it("normalises the image jointly with the visible text relevance; a flat item is all zeros", () => {
    const d = data([[1, 3], [2, 2]], [[0, 0], [0, 0]], [NaN, NaN], [[5, 0], [2, 9]], [1, 1], 1, 2);
    const image = Float32Array.from([1, 3]);
    const text = new Float32Array(2);
    expect(normaliseInto(image, text, d, 0)).toBe(1);
    expect([...image]).toEqual([0, 0.5]);
    expect(text[0]).toBe(1);
    const flat = Float32Array.from([2, 2]);
    normaliseInto(flat, text, d, 1); // R[1, 0] = 2 too; R[1, 1] = 9 is not visible
    expect([...flat, text[0]]).toEqual([0, 0, 0]);
  });

  it("filters a constant window to its median and a non-positive window to 0", () => {
    const scratch = new FilterScratch(3);
    const src = new Float32Array(9).fill(0.25);
    const dst = new Float32Array(9);
    filterFrame(src, dst, { offset: 0, height: 3, width: 3 }, scratch);
    expect([...dst]).toEqual(new Array(9).fill(0.25));
    filterFrame(new Float32Array(9), dst, { offset: 0, height: 3, width: 3 }, scratch);
    expect([...dst]).toEqual(new Array(9).fill(0));
  });

  it("weights sorted ranks around the median with a Gaussian of width cv", () => {
    // A 1x1 map: the window is the cell 9 times over (reflect of n = 1), so the output is the cell.
    const dst = new Float32Array(1);
    filterFrame(Float32Array.from([0.7]), dst, { offset: 0, height: 1, width: 1 }, new FilterScratch(3));
    expect(dst[0]).toBeCloseTo(0.7, 6);
    // 1x3 map [0, 1, 0]: centre window = rows reflect to itself, values {0,1,0} x 3 -> sorted 6 zeros, 3 ones.
    const out = new Float32Array(3);
    filterFrame(Float32Array.from([0, 1, 0]), out, { offset: 0, height: 1, width: 3 }, new FilterScratch(3));
    const mu = 3 / 9;
    const cv2 = (6 * mu * mu + 3 * (1 - mu) ** 2) / 9 / (mu * mu);
    const g = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => Math.exp(-((i - 4) ** 2) / (2 * cv2)));
    const expected = (g[6] + g[7] + g[8]) / g.reduce((a, b) => a + b);
    expect(out[1]).toBeCloseTo(expected, 6);
  });

  it("computes one item end to end and converts to u8 with floor(255 x)", () => {
    const d = data([[0, 1, 2, 3]], [[0]], [NaN], [[0]], [0], 2, 2);
    const ws = new Workspace(4, 1, 3);
    const raw = computeItem(d, 0, { lambda: 1, filter: false }, ws);
    expect([...toU8(raw.image)]).toEqual([0, 85, 170, 255]);
    const filtered = computeItem(d, 0, { lambda: 1, filter: true }, ws);
    expect(filtered.image).toBe(ws.filtered);
    expect([...toU8(Float32Array.from([-0.1, 0.999, 1.5, NaN]))]).toEqual([0, 254, 255, 0]);
  });
});
