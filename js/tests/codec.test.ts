import { afterEach, describe, expect, it } from "vitest";
import { copyBytes, WireError } from "../src/arrays";
import { decode, type WireMeta } from "../src/codec";
import { METHODS, type MethodImpl } from "../src/methods";
import { TamMaps } from "../src/methods/tam";
import { dequantiseRow, omegaRow, relevanceRow } from "../src/methods/tam-rows";
import { encodeArrays, syntheticCase, tamParts } from "./helpers";

/** The decoded TAM data of a case (narrowed from the generic MethodMaps). */
function tamData(bytes: ArrayBuffer | DataView, meta: WireMeta) {
  const { maps } = decode(bytes, meta).shown;
  if (!(maps instanceof TamMaps)) throw new Error("not TAM's maps");
  return maps.data;
}

afterEach(() => {
  delete METHODS.other;
});

describe("codec", () => {
  it("round-trips a buffer built here: A within half a step per row, omega's lower triangle, R's shown part", () => {
    const A = Float32Array.from([0, 1.5, -2, 3.25, 4, 5]);
    const omega = Float32Array.from([0, 0, 1, 0]);
    const scale = Float32Array.from([NaN, 0.5]);
    const R = Float32Array.from([1, 2, 3, 4]);
    const nVisible = Int32Array.from([1, 1]);
    const { data, arrays } = encodeArrays(tamParts(A, omega, scale, R, nVisible));
    expect(arrays.A).toEqual({ dtype: "uint16", offset: 0, shape: [2, 3] });
    expect(arrays.A_lo).toEqual({ dtype: "float32", offset: 12, shape: [2] }); // 12 bytes of uint16, 4-byte aligned
    expect([arrays.omega.shape, arrays.R.shape]).toEqual([[1], [2]]);
    const c = syntheticCase({ nPrompt: 1, nAnswer: 1, grids: [[1, 3]] });
    const out = tamData(new DataView(data), { ...c.meta, methods: { tam: { arrays, kernel: 3 } } });
    expect([out.T, out.nv, out.kernel]).toEqual([2, 3, 3]);
    const row = new Float32Array(3);
    for (const k of [0, 1]) {
      dequantiseRow(row, out.A, k);
      const half = out.A.step[k] / 2;
      row.forEach((x, i) => expect(Math.abs(x - A[3 * k + i])).toBeLessThanOrEqual(half * 1.0001));
    }
    expect([...omegaRow(out, 0), ...omegaRow(out, 1)]).toEqual([1]);
    expect(Number.isNaN(out.scale[0])).toBe(true);
    expect(out.scale[1]).toBe(0.5);
    expect([...relevanceRow(out, 0), ...relevanceRow(out, 1)]).toEqual([1, 3]);
    expect(out.nVisible).toEqual(nVisible);
  });

  it("hands each method its own part, with offsets absolute into the one buffer", () => {
    const c = syntheticCase({ nPrompt: 1, nAnswer: 1, grids: [[1, 3]] });
    const extra = encodeArrays({ w: { values: Float32Array.from([7, 8]), shape: [2] } }, c.data.byteLength);
    const both = new Uint8Array(extra.data);
    both.set(new Uint8Array(c.data));
    const seen: { part: unknown; T: number; nv: number; w: number[] }[] = [];
    const other: MethodImpl = {
      title: "Other",
      decode: (buf, part, layout) => {
        seen.push({ part, T: layout.T, nv: layout.nv, w: [...new Float32Array(buf, part.arrays.w.offset, 2)] });
        return { compute: () => ({ image: new Float32Array(layout.nv), text: new Float32Array(0), nText: 0 }) };
      },
      params: () => ({}),
      label: () => "other",
    };
    METHODS.other = other;
    const meta = { ...c.meta, method: "other", methods: { ...c.meta.methods, other: { arrays: extra.arrays, size: 2 } } };
    const decoded = decode(both.buffer, meta);
    expect(decoded.shown.impl).toBe(other);
    expect([...decoded.methods.keys()]).toEqual(["tam", "other"]);
    expect(seen).toEqual([{ part: meta.methods.other, T: 2, nv: 3, w: [7, 8] }]);
  });

  it("reads a DataView whose byte offset is not 4-byte aligned", () => {
    const c = syntheticCase();
    const shifted = new Uint8Array(c.data.byteLength + 3);
    shifted.set(new Uint8Array(c.data), 3);
    const viaView = tamData(new DataView(shifted.buffer, 3, c.data.byteLength), c.meta);
    const direct = tamData(c.data, c.meta);
    expect(viaView.A.q).toEqual(direct.A.q);
    expect(viaView.A.lo).toEqual(direct.A.lo);
    expect(viaView.nVisible).toEqual(direct.nVisible);
  });

  it("decodes from a private copy: later writes to the trait's bytes change nothing", () => {
    const c = syntheticCase();
    const bytes = new Uint8Array(c.data.slice(0));
    const out = tamData(new DataView(bytes.buffer), c.meta);
    const before = out.A.q[0];
    bytes.fill(255);
    expect(out.A.q[0]).toBe(before);
    expect(copyBytes(new Uint8Array([1, 2, 3]).subarray(1))).toEqual(new Uint8Array([2, 3]).buffer);
  });

  it("names an unknown method tag as a page from a newer tam-widget", () => {
    const c = syntheticCase();
    const lime = { ...c.meta, method: "lime", methods: { lime: c.meta.methods.tam } };
    expect(() => decode(c.data, lime)).toThrow('This page was made by a newer tam-widget: method "lime" unknown (this front end knows tam, eagle).');
    expect(() => decode(c.data, { ...c.meta, method: "toString", methods: { toString: c.meta.methods.tam } })).toThrow(/method "toString" unknown/);
    expect(() => decode(c.data, { ...c.meta, method: "eagle" })).toThrow(/shows method "eagle" first but holds no data/);
  });

  it("rejects a wrong version, a short buffer, a wrong shape or dtype, and frames that do not cover n_v", () => {
    const c = syntheticCase();
    expect(() => decode(c.data, { ...c.meta, version: 3 })).toThrow(/Wire version 3 is not supported \(this front end reads 4\); rebuild the widget bundle/);
    expect(() => decode(c.data.slice(0, 100), c.meta)).toThrow(WireError);
    const badShape = structuredClone(c.meta);
    badShape.methods.tam.arrays.omega.shape = [10, 10];
    expect(() => decode(c.data, badShape)).toThrow(/omega has shape \[10,10\], expected \[45\]/);
    const badType = structuredClone(c.meta);
    badType.methods.tam.arrays.n_visible.dtype = "int64";
    expect(() => decode(c.data, badType)).toThrow(/int64/);
    const badFrames = structuredClone(c.meta);
    badFrames.frames[0].height = 1; // 8 cells where A has 48 columns
    expect(() => decode(c.data, badFrames)).toThrow(/A has shape \[10,48\], expected \[10,8\]/);
    const badRows = structuredClone(c.meta);
    badRows.methods.tam.arrays.A.dtype = "float32"; // a version 3 A
    expect(() => decode(c.data, badRows)).toThrow(/Array A is float32, expected uint16/);
    const gap = structuredClone(c.meta);
    gap.frames.push({ offset: 99, height: 1, width: 1 });
    expect(() => decode(c.data, gap)).toThrow(/offset 99 should start at 48/);
    expect(() => decode(c.data, { ...c.meta, methods: { tam: { ...c.meta.methods.tam, kernel: 2 } } })).toThrow(/odd/);
  });

  it("rejects shared metadata that does not add up", () => {
    const c = syntheticCase();
    expect(() => decode(c.data, { ...c.meta, n_answer: 1 })).toThrow(/4 prompt \+ 1 answer items, but 10 items/);
    const noFrame = structuredClone(c.meta);
    noFrame.views[0].frames = [3];
    expect(() => decode(c.data, noFrame)).toThrow(/View 0 names frame 3/);
    const noImage = structuredClone(c.meta);
    noImage.views[0].image = 1;
    expect(() => decode(c.data, noImage)).toThrow(/View 0 shows image 1/);
    expect(() => decode(c.data, { ...c.meta, items: undefined } as unknown as WireMeta)).toThrow(/meta.items must be a list/);
    const badVisible = structuredClone(c.meta);
    const nv = badVisible.methods.tam.arrays.n_visible;
    const bytes = new DataView(c.data.slice(0));
    bytes.setInt32(nv.offset, 11, true);
    expect(() => decode(bytes, badVisible)).toThrow(/n_visible\[0\] = 11 is outside 0..10/);
  });
});
