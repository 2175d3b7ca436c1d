/**
 * One item's displayed map, exactly as tam_widget/core computes it (result.py, eci.py, rgf.py):
 * ECI correction, joint min-max normalisation with the text relevance, rank Gaussian filter, u8.
 *
 * The core runs in float32; every elementwise step here is rounded with Math.fround so the
 * results match it bit for bit except for exp() (1 ulp apart at most) and the interference map
 * E_v = omega_v @ A, summed here in float64 where the core's matrix product sums in float32 in its
 * own order (a few ulp). All buffers live in a Workspace allocated once per data set: computing
 * an item allocates nothing.
 */

import type { FrameMeta, TamData } from "./codec";

const f32 = Math.fround;

/** What a map depends on besides the item: lambda = eci ? eci_scale : 0, and the filter toggle. */
export interface MapSettings {
  lambda: number;
  filter: boolean;
}

export class Workspace {
  readonly interference: Float32Array; // (n_v) E_v of item `eItem`, kept while only lambda changes
  eItem = -1;
  readonly acc: Float64Array; // (n_v) the sum behind `interference`
  readonly corrected: Float32Array; // (n_v) after ECI, then normalised in place
  readonly filtered: Float32Array; // (n_v) after the rank Gaussian filter
  readonly text: Float32Array; // (T) normalised relevance of the first nText items
  readonly window: Float64Array; // the k*k values of one filter window
  private readonly reflect = new Map<string, Int32Array>();

  constructor(nv: number, T: number, kernel: number) {
    this.interference = new Float32Array(nv);
    this.acc = new Float64Array(nv);
    this.corrected = new Float32Array(nv);
    this.filtered = new Float32Array(nv);
    this.text = new Float32Array(T);
    this.window = new Float64Array(kernel * kernel);
  }

  /** numpy 'reflect' indices of a length-n axis padded by pad cells, cached per (n, pad). */
  reflectIndex(n: number, pad: number): Int32Array {
    const key = `${n},${pad}`;
    let idx = this.reflect.get(key);
    if (!idx) this.reflect.set(key, (idx = reflectIndex(n, pad)));
    return idx;
  }
}

export function reflectIndex(n: number, pad: number): Int32Array {
  const out = new Int32Array(n + 2 * pad);
  if (n === 1) return out;
  const period = 2 * (n - 1);
  for (let i = 0; i < out.length; i++) {
    const m = (((i - pad) % period) + period) % period;
    out[i] = m >= n ? period - m : m;
  }
  return out;
}

/** out = E_v = sum_k omega[v, k] A_k (the core's omega @ A, row v), skipping zero weights. */
export function interferenceInto(out: Float32Array, data: TamData, item: number, acc: Float64Array = new Float64Array(data.nv)): void {
  const { A, omega, nv, T } = data;
  acc.fill(0);
  for (let k = 0; k < T; k++) {
    const w = omega[item * T + k];
    if (w === 0) continue;
    const base = k * nv;
    for (let i = 0; i < nv; i++) acc[i] += w * A[base + i];
  }
  for (let i = 0; i < nv; i++) out[i] = acc[i];
}

/** out = max(0, A_v - lambda * s_v * E_v); lambda = 0 returns A_v unclamped, as the core does. */
export function correctInto(out: Float32Array, data: TamData, item: number, lambda: number, E: Float32Array): void {
  const { A, nv } = data;
  const base = item * nv;
  if (lambda === 0) {
    out.set(A.subarray(base, base + nv));
    return;
  }
  const s = data.scale[item];
  const ls = f32(f32(lambda) * (Number.isNaN(s) ? 0 : s));
  for (let i = 0; i < nv; i++) {
    const x = f32(A[base + i] - f32(ls * E[i]));
    out[i] = x > 0 ? x : 0;
  }
}

/**
 * Joint min-max of the image map (in place) and R[item, k] for k < n_visible[item] (into text).
 * All zeros when the span is not positive. Returns n_visible[item], the number of text entries.
 */
export function normaliseInto(image: Float32Array, text: Float32Array, data: TamData, item: number): number {
  const { R, T } = data;
  const nText = data.nVisible[item];
  const row = item * T;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < image.length; i++) {
    const x = image[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  for (let k = 0; k < nText; k++) {
    const x = R[row + k];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const span = f32(hi - lo);
  if (!(span > 0)) {
    image.fill(0);
    text.fill(0, 0, nText);
    return nText;
  }
  for (let i = 0; i < image.length; i++) image[i] = f32(image[i] - lo) / span;
  for (let k = 0; k < nText; k++) text[k] = f32(R[row + k] - lo) / span;
  return nText;
}

/** Rank Gaussian filter of one (h, w) frame stored at src[offset ..], written to dst[offset ..]. */
export function filterFrame(src: Float32Array, dst: Float32Array, frame: FrameMeta, kernel: number, ws: Workspace): void {
  const { offset, height: h, width: w } = frame;
  const pad = kernel >> 1;
  const n = kernel * kernel;
  const half = n >> 1;
  const rows = ws.reflectIndex(h, pad);
  const cols = ws.reflectIndex(w, pad);
  const win = ws.window;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let i = 0; i < kernel; i++) {
        const r = offset + rows[y + i] * w;
        for (let j = 0; j < kernel; j++) win[m++] = src[r + cols[x + j]];
      }
      for (let i = 1; i < n; i++) {
        const v = win[i];
        let j = i - 1;
        for (; j >= 0 && win[j] > v; j--) win[j + 1] = win[j];
        win[j + 1] = v;
      }
      dst[offset + y * w + x] = rankGaussian(win, n, half);
    }
  }
}

/** The Gaussian-over-ranks mean of a sorted window (float32 steps in the core's order). */
function rankGaussian(win: Float64Array, n: number, half: number): number {
  let sum = win[0];
  for (let i = 1; i < n; i++) sum = f32(sum + win[i]);
  const mu = f32(sum / n);
  if (!(mu > 0)) return 0;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = f32(win[i] - mu);
    v = f32(v + f32(d * d));
  }
  const cv2 = f32(f32(v / n) / f32(mu * mu));
  const inv = f32(0.5 / cv2); // Infinity when cv = 0: only the median keeps its weight
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d2 = (i - half) * (i - half);
    const g = d2 === 0 ? 1 : f32(Math.exp(f32(-d2 * inv)));
    num = f32(num + f32(g * win[i]));
    den = f32(den + g);
  }
  return num / den;
}

/** Filter every frame of a (n_v) map. */
export function filterFrames(src: Float32Array, dst: Float32Array, data: TamData, ws: Workspace): void {
  for (const frame of data.frames) filterFrame(src, dst, frame, data.kernel, ws);
}

/** The item's displayed map and shown text relevance; both are workspace buffers, valid until the next call. */
export interface ItemMaps {
  image: Float32Array; // (n_v) in [0, 1]
  text: Float32Array; // entries 0 .. nText-1 in [0, 1]
  nText: number;
}

export function computeItem(data: TamData, item: number, settings: MapSettings, ws: Workspace): ItemMaps {
  if (settings.lambda !== 0 && ws.eItem !== item) {
    interferenceInto(ws.interference, data, item, ws.acc); // once per item: a slider drag reuses it
    ws.eItem = item;
  }
  correctInto(ws.corrected, data, item, settings.lambda, ws.interference);
  const nText = normaliseInto(ws.corrected, ws.text, data, item);
  if (!settings.filter) return { image: ws.corrected, text: ws.text, nText };
  filterFrames(ws.corrected, ws.filtered, data, ws);
  return { image: ws.filtered, text: ws.text, nText };
}

/** floor(255 * x) clamped to 0..255, the core's TAMMaps.u8. */
export function toU8(x: Float32Array, out: Uint8Array = new Uint8Array(x.length)): Uint8Array {
  for (let i = 0; i < x.length; i++) {
    const v = Math.floor(f32(x[i] * 255));
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}
