/**
 * TAM's earlier decoder layers (the logit lens, explain(..., layers=...)): the compact arrays
 * tam_widget/methods/tam.py layer_arrays sends, read back into a full TamData per layer when the
 * layer is first shown, so its maps are computed exactly as the last layer's (tam-math.ts).
 * On the wire (L earlier layers, in the order of part.layers):
 *   layer_A (L, T, n_v) uint16, layer_A_lo / layer_A_step (L, T) float32: A = lo + q * step;
 *   layer_omega (L, T(T-1)/2) float32: omega[v, k] for k < v, row by row (the rest is 0);
 *   layer_R (sum of layer_n_visible) float32: R[v, 0 .. n_visible[v]-1], row by row, layer by layer;
 *   layer_scale (L, T) float32, layer_n_visible (L, T) int32.
 */

import { readFloat32, readInt32, readUint16, WireError } from "../arrays";
import type { Layout, MethodPart } from "../codec";
import type { TamData } from "./tam-math";

const f32 = Math.fround;

/** The decoder layers a page holds: every kept index (the last included, as exp.layers) and the layer count. */
export interface LayerInfo {
  kept: number[];
  n: number;
}

/** The earlier layers' arrays as sent (views on the wire buffer). */
interface LayerWire {
  q: Uint16Array;
  lo: Float32Array;
  step: Float32Array;
  omega: Float32Array;
  R: Float32Array;
  rStart: number[]; // per layer, where its rows of layer_R begin
  scale: Float32Array;
  nVisible: Int32Array;
}

/** The earlier layers of one page: each layer's TamData, built on first use. */
export class LayerSet {
  private readonly built = new Map<number, TamData>();

  constructor(
    readonly info: LayerInfo,
    private readonly wire: LayerWire,
    private readonly layout: Layout,
    private readonly kernel: number,
  ) {}

  /** The earlier layers, in wire order (every kept layer but the last). */
  get earlier(): number[] {
    return this.info.kept.slice(0, -1);
  }

  /** Layer `layer`'s data, or null for the last layer (and any index the page does not hold). */
  data(layer: number): TamData | null {
    const l = this.earlier.indexOf(layer);
    if (l < 0) return null;
    let data = this.built.get(l);
    if (!data) this.built.set(l, (data = this.build(l)));
    return data;
  }

  /** Item's raw-map peak (max over the vision cells, clipped at 0) at earlier layer l (wire order): lo + 65535 step. */
  peak(l: number, item: number): number {
    const r = l * this.layout.T + item;
    return Math.max(0, f32(this.wire.lo[r] + f32(65535 * this.wire.step[r])));
  }

  private build(l: number): TamData {
    const { T, nv, frames } = this.layout;
    const w = this.wire;
    const nVisible = w.nVisible.subarray(l * T, (l + 1) * T);
    return { T, nv, A: dequantise(w, l, T, nv), omega: lowerTriangle(w.omega, l, T), scale: w.scale.subarray(l * T, (l + 1) * T), R: ragged(w.R, w.rStart[l], nVisible, T), nVisible, kernel: this.kernel, frames };
  }
}

/** (T, n_v) float32: lo + q * step per row, each operation in float32 (tam.py dequantise_rows). */
function dequantise(w: LayerWire, l: number, T: number, nv: number): Float32Array {
  const out = new Float32Array(T * nv);
  for (let v = 0; v < T; v++) {
    const lo = w.lo[l * T + v];
    const step = w.step[l * T + v];
    const base = (l * T + v) * nv;
    for (let i = 0; i < nv; i++) out[v * nv + i] = f32(lo + f32(w.q[base + i] * step));
  }
  return out;
}

/** (T, T) omega from its strict lower triangle. */
function lowerTriangle(packed: Float32Array, l: number, T: number): Float32Array {
  const out = new Float32Array(T * T);
  let j = (l * T * (T - 1)) / 2;
  for (let v = 1; v < T; v++) for (let k = 0; k < v; k++) out[v * T + k] = packed[j++];
  return out;
}

/** (T, T) R from its shown rows (the rest, never read, 0). */
function ragged(packed: Float32Array, start: number, nVisible: Int32Array, T: number): Float32Array {
  const out = new Float32Array(T * T);
  let j = start;
  for (let v = 0; v < T; v++) for (let k = 0; k < nVisible[v]; k++) out[v * T + k] = packed[j++];
  return out;
}

/** The page's layers (part.layers, part.n_layers), or null for a page of the last layer only. */
export function layerInfo(part: MethodPart): LayerInfo | null {
  const kept = part.layers;
  const n = part.n_layers;
  if (!Array.isArray(kept) || kept.length < 2) return null;
  const ok = typeof n === "number" && kept.every((i, j) => Number.isInteger(i) && i >= 0 && i < n && (j === 0 || i > kept[j - 1])) && kept[kept.length - 1] === n - 1;
  if (!ok) throw new WireError(`TAM's layers ${JSON.stringify(kept)} must rise to the last of n_layers ${String(n)}.`);
  return { kept: kept as number[], n };
}

/** The earlier layers' arrays checked against the layout, or null when the page holds none. */
export function decodeLayers(buf: ArrayBuffer, part: MethodPart, layout: Layout, kernel: number): LayerSet | null {
  const info = layerInfo(part);
  if (!info) return null;
  const { T, nv } = layout;
  const L = info.kept.length - 1;
  const a = part.arrays ?? {};
  const nVisible = readInt32(buf, "layer_n_visible", a.layer_n_visible, [L, T]);
  const rStart = [0];
  for (let l = 0; l < L; l++) rStart.push(rStart[l] + checkVisible(nVisible.subarray(l * T, (l + 1) * T), T));
  const wire: LayerWire = {
    q: readUint16(buf, "layer_A", a.layer_A, [L, T, nv]),
    lo: readFloat32(buf, "layer_A_lo", a.layer_A_lo, [L, T]),
    step: readFloat32(buf, "layer_A_step", a.layer_A_step, [L, T]),
    omega: readFloat32(buf, "layer_omega", a.layer_omega, [L, (T * (T - 1)) / 2]),
    R: readFloat32(buf, "layer_R", a.layer_R, [rStart[L]]),
    rStart,
    scale: readFloat32(buf, "layer_scale", a.layer_scale, [L, T]),
    nVisible,
  };
  return new LayerSet(info, wire, layout, kernel);
}

/** Every n_visible within 0..T; their sum (the layer's share of layer_R). */
function checkVisible(nVisible: Int32Array, T: number): number {
  let sum = 0;
  for (const n of nVisible) {
    if (n < 0 || n > T) throw new WireError(`A layer's n_visible ${n} is outside 0..${T}.`);
    sum += n;
  }
  return sum;
}
