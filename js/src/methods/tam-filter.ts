/**
 * TAM's rank Gaussian filter, exactly as tam_widget/core/rgf.py computes it: each cell becomes
 * the mean of its k x k window (numpy 'reflect' padding) weighted by a Gaussian over the sorted
 * ranks, of width the window's coefficient of variation. float32 steps in the core's order.
 */

import type { FrameMeta } from "../codec";

const f32 = Math.fround;

/** The filter's reusable buffers: one window, its Gaussian weights, and reflect indices per (length, pad). */
export class FilterScratch {
  readonly window: Float64Array; // the k*k values of one window
  readonly weights: Float64Array; // g for each distance from the median rank: 0 .. k*k >> 1
  private readonly indices = new Map<string, Int32Array>();

  constructor(readonly kernel: number) {
    this.window = new Float64Array(kernel * kernel);
    this.weights = new Float64Array(((kernel * kernel) >> 1) + 1);
  }

  reflect(n: number, pad: number): Int32Array {
    const key = `${n},${pad}`;
    let idx = this.indices.get(key);
    if (!idx) this.indices.set(key, (idx = reflectIndex(n, pad)));
    return idx;
  }
}

/** numpy 'reflect' indices of a length-n axis padded by pad cells (n = 1 repeats index 0). */
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

/** Filter every frame of a (n_v) map from src into dst. */
export function filterFrames(src: Float32Array, dst: Float32Array, frames: FrameMeta[], scratch: FilterScratch): void {
  for (const frame of frames) filterFrame(src, dst, frame, scratch);
}

/** Rank Gaussian filter of one (h, w) frame stored at src[offset ..], written to dst[offset ..]. */
export function filterFrame(src: Float32Array, dst: Float32Array, frame: FrameMeta, scratch: FilterScratch): void {
  const { offset, height: h, width: w } = frame;
  const pad = scratch.kernel >> 1;
  const rows = scratch.reflect(h, pad);
  const cols = scratch.reflect(w, pad);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      gather(scratch, src, offset, rows, cols, y, x, w);
      sortWindow(scratch.window);
      dst[offset + y * w + x] = rankGaussian(scratch.window, scratch.weights);
    }
  }
}

/** Copy the window of cell (y, x) into scratch.window, row by row (rows, cols: padded reflect indices). */
function gather(scratch: FilterScratch, src: Float32Array, offset: number, rows: Int32Array, cols: Int32Array, y: number, x: number, w: number): void {
  const { kernel: k, window: win } = scratch;
  let m = 0;
  for (let i = 0; i < k; i++) {
    const r = offset + rows[y + i] * w;
    for (let j = 0; j < k; j++) win[m++] = src[r + cols[x + j]];
  }
}

/** Insertion sort, ascending: k*k is 9 or 25 values. */
function sortWindow(win: Float64Array): void {
  for (let i = 1; i < win.length; i++) {
    const v = win[i];
    let j = i - 1;
    for (; j >= 0 && win[j] > v; j--) win[j + 1] = win[j];
    win[j + 1] = v;
  }
}

/** The Gaussian-over-ranks mean of a sorted window; 0 when its mean is not positive. */
function rankGaussian(win: Float64Array, weights: Float64Array): number {
  const mu = mean(win);
  if (!(mu > 0)) return 0;
  const cv2 = f32(f32(variance(win, mu) / win.length) / f32(mu * mu));
  return gaussianMean(win, f32(0.5 / cv2), weights); // inv = Infinity when cv = 0: only the median keeps its weight
}

function mean(win: Float64Array): number {
  let sum = win[0];
  for (let i = 1; i < win.length; i++) sum = f32(sum + win[i]);
  return f32(sum / win.length);
}

/** The float32 sum of squared deviations from mu. */
function variance(win: Float64Array, mu: number): number {
  let v = 0;
  for (let i = 0; i < win.length; i++) {
    const d = f32(win[i] - mu);
    v = f32(v + f32(d * d));
  }
  return v;
}

/** sum g_i x_i / sum g_i with g_i = exp(-(i - median rank)^2 * inv); ranks the same distance from the
 * median share their weight, so each exp is taken once (into weights). */
function gaussianMean(win: Float64Array, inv: number, weights: Float64Array): number {
  const half = win.length >> 1;
  weights[0] = 1;
  for (let d = 1; d <= half; d++) weights[d] = f32(Math.exp(f32(-(d * d) * inv)));
  let num = 0;
  let den = 0;
  for (let i = 0; i < win.length; i++) {
    const g = weights[i < half ? half - i : i - half];
    num = f32(num + f32(g * win[i]));
    den = f32(den + g);
  }
  return num / den;
}
