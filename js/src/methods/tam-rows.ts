/**
 * TAM's compact arrays (wire version 4, tam_widget/methods/tam_wire.py): one decoder for every
 * decoder layer. One layer's arrays (the last: plain names; the L earlier ones: "layer_" names
 * with a leading L dimension, layer_R the layers' R one after the other):
 *   A (T, n_v) uint16, A_lo / A_step (T) float32: row v is lo + q * step (NaN lo: the row held
 *     NaN or an infinity);
 *   omega (T(T-1)/2) float32: omega[v, k] for k < v, row by row (the rest is 0);
 *   R (sum of n_visible) float32: R[v, 0 .. n_visible[v]-1], row by row;
 *   scale (T) float32, n_visible (T) int32.
 * The maps stay quantised in memory: a row is read back when an item is shown (dequantiseRow),
 * and E_v = omega_v @ A is summed from the uint16 rows directly (accumulateRows).
 */

import { type ArraySpec, readFloat32, readInt32, readUint16, WireError } from "../arrays";
import type { Layout } from "../codec";
import type { TamData } from "./tam-math";

const f32 = Math.fround;

/** Rows quantised to uint16 over their own range: row k is lo[k] + q[k * n + i] * step[k]. */
export interface Rows {
  q: Uint16Array;
  lo: Float32Array;
  step: Float32Array;
  n: number; // row length
}

export const LEVELS = 65535;

/** The quantised array `name` (shape [...lead, n]) and its `name`_lo / `name`_step (shape lead). */
export function readRows(buf: ArrayBuffer, arrays: Record<string, ArraySpec>, name: string, shape: number[]): Rows {
  const lead = shape.slice(0, -1);
  return {
    q: readUint16(buf, name, arrays[name], shape),
    lo: readFloat32(buf, `${name}_lo`, arrays[`${name}_lo`], lead),
    step: readFloat32(buf, `${name}_step`, arrays[`${name}_step`], lead),
    n: shape[shape.length - 1],
  };
}

/** Rows first .. first+count-1 of `rows` (views, no copy). */
export function sliceRows(rows: Rows, first: number, count: number): Rows {
  const { n } = rows;
  return { q: rows.q.subarray(first * n, (first + count) * n), lo: rows.lo.subarray(first, first + count), step: rows.step.subarray(first, first + count), n };
}

/** out = row k in float32: lo + q * step, each operation rounded as tam_wire.py dequantise_rows. */
export function dequantiseRow(out: Float32Array, rows: Rows, k: number): Float32Array {
  const { q, n } = rows;
  const lo = rows.lo[k];
  const step = rows.step[k];
  for (let i = 0, base = k * n; i < n; i++) out[i] = f32(lo + f32(q[base + i] * step));
  return out;
}

/** Whether row k holds finite numbers (a row that held NaN or an infinity crosses with NaN lo). */
export function rowFinite(rows: Rows, k: number): boolean {
  return Number.isFinite(rows.lo[k]) && Number.isFinite(rows.step[k]);
}

/** Row k's largest value (lo + 65535 step: quantisation spans the row's range), NaN for a non-finite row. */
export function rowPeak(rows: Rows, k: number): number {
  return f32(rows.lo[k] + f32(LEVELS * rows.step[k]));
}

/** acc += w * (row k - lo[k]) in float64, straight from the uint16 levels; returns w * lo[k], the rest of w * row k. */
export function accumulateRow(acc: Float64Array, rows: Rows, k: number, w: number): number {
  const { q, n } = rows;
  const c = w * rows.step[k];
  for (let i = 0, base = k * n; i < n; i++) acc[i] += c * q[base + i];
  return w * rows.lo[k];
}

/** The rows a weighted sum of rows reads (non-zero weights only): row ks[j] weighs c[j] = w * step; base = sum w * lo. */
export interface WeightedRows {
  ks: Int32Array;
  c: Float64Array;
  count: number;
  base: number;
}

/** The rows 0 .. count-1 with a non-zero weight(k) (NaN included: it must reach the sum), ready for accumulateRows. */
export function weightedRows(rows: Rows, count: number, weight: (k: number) => number): WeightedRows {
  const ks = new Int32Array(count);
  const c = new Float64Array(count);
  let m = 0;
  let base = 0;
  for (let k = 0; k < count; k++) {
    const w = weight(k);
    if (w === 0) continue;
    ks[m] = k;
    c[m++] = w * rows.step[k];
    base += w * rows.lo[k];
  }
  return { ks, c, count: m, base };
}

export const GROUP = 8; // rows summed in one pass over acc

/**
 * acc += sum_j c[j] (q of row ks[j]) for j in from .. to-1, in float64, GROUP rows a pass: one
 * read and write of acc per GROUP rows (about 2-3x faster than a row at a time). The grouping
 * depends on `from` only, so a sum split at multiples of GROUP has the same bits as one call.
 */
export function accumulateRows(acc: Float64Array, rows: Rows, w: WeightedRows, from: number, to: number): void {
  const { q, n } = rows;
  const { ks, c } = w;
  let j = from;
  for (; j + GROUP <= to; j += GROUP) {
    const b0 = ks[j] * n, b1 = ks[j + 1] * n, b2 = ks[j + 2] * n, b3 = ks[j + 3] * n;
    const b4 = ks[j + 4] * n, b5 = ks[j + 5] * n, b6 = ks[j + 6] * n, b7 = ks[j + 7] * n;
    const c0 = c[j], c1 = c[j + 1], c2 = c[j + 2], c3 = c[j + 3], c4 = c[j + 4], c5 = c[j + 5], c6 = c[j + 6], c7 = c[j + 7];
    for (let i = 0; i < n; i++) {
      acc[i] += c0 * q[b0 + i] + c1 * q[b1 + i] + c2 * q[b2 + i] + c3 * q[b3 + i] + c4 * q[b4 + i] + c5 * q[b5 + i] + c6 * q[b6 + i] + c7 * q[b7 + i];
    }
  }
  for (; j < to; j++) {
    const b = ks[j] * n;
    const cj = c[j];
    for (let i = 0; i < n; i++) acc[i] += cj * q[b + i];
  }
}

/** Item v's ECI weights omega[v, 0 .. v-1] (the packed strict lower triangle). */
export function omegaRow(data: TamData, v: number): Float32Array {
  const start = (v * (v - 1)) / 2;
  return data.omega.subarray(start, start + v);
}

/** Item v's shown relevance R[v, 0 .. n_visible[v]-1]. */
export function relevanceRow(data: TamData, v: number): Float32Array {
  return data.R.subarray(data.rStart[v], data.rStart[v] + data.nVisible[v]);
}

/**
 * The layers stored under `prefix` ("" for the last layer, one; "layer_" for the L earlier ones,
 * stacked): each layer's TamData as views on buf, checked against the layout.
 */
export function readLayers(buf: ArrayBuffer, arrays: Record<string, ArraySpec>, prefix: string, L: number | null, layout: Layout, kernel: number): TamData[] {
  const { T, nv, frames } = layout;
  const lead = L === null ? [] : [L];
  const count = L ?? 1;
  const a = (name: string) => arrays[prefix + name];
  const read = (name: string, shape: number[]) => readFloat32(buf, prefix + name, a(name), [...lead, ...shape]);
  const nVisible = readInt32(buf, `${prefix}n_visible`, a("n_visible"), [...lead, T]);
  const rStart = Array.from({ length: count }, (_, l) => starts(nVisible.subarray(l * T, (l + 1) * T), T));
  const total = rStart.reduce((s, r) => s + r[T], 0);
  const A = readRows(buf, arrays, `${prefix}A`, [...lead, T, nv]);
  const omega = read("omega", [(T * (T - 1)) / 2]);
  const R = readFloat32(buf, `${prefix}R`, a("R"), [total]);
  const scale = read("scale", [T]);
  let rOffset = 0;
  return rStart.map((starts, l) => {
    const data: TamData = {
      T,
      nv,
      A: sliceRows(A, l * T, T),
      omega: omega.subarray((l * T * (T - 1)) / 2, ((l + 1) * T * (T - 1)) / 2),
      scale: scale.subarray(l * T, (l + 1) * T),
      R: R.subarray(rOffset, rOffset + starts[T]),
      rStart: starts,
      nVisible: nVisible.subarray(l * T, (l + 1) * T),
      kernel,
      frames,
    };
    rOffset += starts[T];
    return data;
  });
}

/** Where each item's shown relevance starts in its layer's R (T + 1 entries, the last the total); checks n_visible. */
function starts(nVisible: Int32Array, T: number): Int32Array {
  const out = new Int32Array(T + 1);
  for (let v = 0; v < T; v++) {
    const n = nVisible[v];
    if (!(n >= 0 && n <= T)) throw new WireError(`n_visible[${v}] = ${n} is outside 0..${T}.`);
    out[v + 1] = out[v] + n;
  }
  return out;
}
