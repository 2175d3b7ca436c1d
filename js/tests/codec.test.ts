import { describe, expect, it } from "vitest";
import { copyBytes, decode, encode, WireError } from "../src/codec";
import { syntheticCase } from "./helpers";

describe("codec", () => {
  it("round-trips a buffer built here", () => {
    const A = Float32Array.from([0, 1.5, -2, 3.25, 4, 5]);
    const omega = Float32Array.from([0, 0, 1, 0]);
    const scale = Float32Array.from([NaN, 0.5]);
    const R = Float32Array.from([1, 2, 3, 4]);
    const nVisible = Int32Array.from([1, 1]);
    const { data, arrays } = encode({
      A: { values: A, shape: [2, 3] },
      omega: { values: omega, shape: [2, 2] },
      scale: { values: scale, shape: [2] },
      R: { values: R, shape: [2, 2] },
      n_visible: { values: nVisible, shape: [2] },
    });
    expect(arrays.omega).toEqual({ dtype: "float32", offset: 24, shape: [2, 2] });
    expect(arrays.n_visible.dtype).toBe("int32");
    const c = syntheticCase({ nPrompt: 1, nAnswer: 1, grids: [[1, 3]] });
    const meta = { ...c.meta, arrays };
    const out = decode(new DataView(data), meta);
    expect([out.T, out.nv, out.kernel]).toEqual([2, 3, 3]);
    expect(out.A).toEqual(A);
    expect(out.omega).toEqual(omega);
    expect(Number.isNaN(out.scale[0])).toBe(true);
    expect(out.scale[1]).toBe(0.5);
    expect(out.R).toEqual(R);
    expect(out.nVisible).toEqual(nVisible);
  });

  it("reads a DataView whose byte offset is not 4-byte aligned", () => {
    const c = syntheticCase();
    const shifted = new Uint8Array(c.data.byteLength + 3);
    shifted.set(new Uint8Array(c.data), 3);
    const viaView = decode(new DataView(shifted.buffer, 3, c.data.byteLength), c.meta);
    const direct = decode(c.data, c.meta);
    expect(viaView.A).toEqual(direct.A);
    expect(viaView.nVisible).toEqual(direct.nVisible);
  });

  it("decodes from a private copy: later writes to the trait's bytes change nothing", () => {
    const c = syntheticCase();
    const bytes = new Uint8Array(c.data.slice(0));
    const out = decode(new DataView(bytes.buffer), c.meta);
    const before = out.A[0];
    bytes.fill(255);
    expect(out.A[0]).toBe(before);
    expect(copyBytes(new Uint8Array([1, 2, 3]).subarray(1))).toEqual(new Uint8Array([2, 3]).buffer);
  });

  it("rejects a wrong version, a short buffer, a wrong shape or dtype, and frames that do not cover n_v", () => {
    const c = syntheticCase();
    expect(() => decode(c.data, { ...c.meta, version: 1 })).toThrow(/version 1/);
    expect(() => decode(c.data.slice(0, 100), c.meta)).toThrow(WireError);
    const badShape = structuredClone(c.meta);
    badShape.arrays.omega.shape = [1, 2];
    expect(() => decode(c.data, badShape)).toThrow(/shape/);
    const badType = structuredClone(c.meta);
    badType.arrays.n_visible.dtype = "int64";
    expect(() => decode(c.data, badType)).toThrow(/int64/);
    const badFrames = structuredClone(c.meta);
    badFrames.frames[0].height = 1;
    expect(() => decode(c.data, badFrames)).toThrow(/cells/);
    expect(() => decode(c.data, { ...c.meta, kernel: 2 })).toThrow(/odd/);
  });
});
