/**
 * TAM's rank Gaussian filter, exactly as tam_widget/core/rgf.py and rgf_tape.py compute it: each
 * cell becomes the mean of its k x k window (numpy 'reflect' padding) weighted by a Gaussian over
 * the sorted ranks, of width the window's coefficient of variation. float32 steps in the core's
 * order: the window sums S and Q (of squares) column by column, the exponent -1/(2 cv^2) from them,
 * the symmetric ranks' pair sums, the weights (for k = 3 one exp and its powers, Horner's rule).
 * The 3 x 3 window, TAM's, has its own path (tam-filter3.ts); this one takes any odd k.
 */

import type { FrameMeta } from "../codec";
import { filter3 } from "./tam-filter3";
import { EXP_FLOOR, exponent, horner, masked } from "./tam-weights";

const f32 = Math.fround;

/** The filter's reusable buffers: one window and its column sums, per-column buffers of the 3 x 3 path,
 * and reflect indices per (length, pad). */
export class FilterScratch {
  readonly window: Float64Array; // the k*k values of one window
  readonly pairs: Float64Array; // pair sums x[m - d] + x[m + d], d = 1 .. m
  private columns = new Float64Array(0); // the 3 x 3 path: per padded column, its sum, sum of squares and sorted values
  private readonly indices = new Map<string, Int32Array>();

  constructor(readonly kernel: number) {
    this.window = new Float64Array(kernel * kernel);
    this.pairs = new Float64Array((kernel * kernel) >> 1);
  }

  reflect(n: number, pad: number): Int32Array {
    const key = `${n},${pad}`;
    let idx = this.indices.get(key);
    if (!idx) this.indices.set(key, (idx = reflectIndex(n, pad)));
    return idx;
  }

  /** The 3 x 3 path's column buffer for rows `width` + 2 padded columns wide (5 values a column). */
  columnsFor(width: number): Float64Array {
    if (this.columns.length < 5 * (width + 2)) this.columns = new Float64Array(5 * (width + 2));
    return this.columns;
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

/**
 * One map's filter, a frame at a time as the frames are read: a panel shows one frame of a video, so a
 * switch filters that frame only, and the others wait until something reads the whole map (all()).
 * src is read when a frame is asked for: it must not change until the next reset().
 */
export class FilteredFrames {
  private src: Float32Array | null = null;
  private frames: FrameMeta[] = [];
  private done = new Uint8Array(0); // per frame: 1 once filtered into out
  private left = 0; // frames not filtered yet

  constructor(
    readonly out: Float32Array,
    private readonly scratch: FilterScratch,
  ) {}

  /** A new map to filter: none of its frames is filtered yet. */
  reset(src: Float32Array, frames: FrameMeta[]): void {
    this.src = src;
    this.frames = frames;
    if (this.done.length === frames.length) this.done.fill(0);
    else this.done = new Uint8Array(frames.length);
    this.left = frames.length;
  }

  /** out, with frame `index` (of the frames reset() was given) filtered; the other frames' cells as they are. */
  frame(index: number): Float32Array {
    const f = this.frames[index];
    if (f && this.src && !this.done[index]) {
      filterFrame(this.src, this.out, f, this.scratch);
      this.done[index] = 1;
      this.left--;
    }
    return this.out;
  }

  /** out with every frame filtered. */
  all(): Float32Array {
    for (let i = 0; this.left > 0 && i < this.frames.length; i++) this.frame(i);
    return this.out;
  }
}

/** Rank Gaussian filter of one (h, w) frame stored at src[offset ..], written to dst[offset ..]. */
export function filterFrame(src: Float32Array, dst: Float32Array, frame: FrameMeta, scratch: FilterScratch): void {
  if (scratch.kernel === 3) return filter3(src, dst, frame, scratch.reflect(frame.height, 1), scratch.reflect(frame.width, 1), scratch.columnsFor(frame.width));
  filterAny(src, dst, frame, scratch);
}

/** Any odd k: each window gathered, sorted and weighted on its own. */
export function filterAny(src: Float32Array, dst: Float32Array, frame: FrameMeta, scratch: FilterScratch): void {
  const { offset, height: h, width: w } = frame;
  const pad = scratch.kernel >> 1;
  const rows = scratch.reflect(h, pad);
  const cols = scratch.reflect(w, pad);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sum, squares] = gather(scratch, src, offset, rows, cols, y, x, w);
      dst[offset + y * w + x] = sum > 0 ? weighted(scratch, exponent(sum, squares, scratch.window.length)) : masked(sum);
    }
  }
}

/** Copy the window of cell (y, x) into scratch.window, column after column, and return its sums of values and of
 * squares in the core's order: each column down its rows, then the columns left to right. */
function gather(scratch: FilterScratch, src: Float32Array, offset: number, rows: Int32Array, cols: Int32Array, y: number, x: number, w: number): [number, number] {
  const { kernel: k, window: win } = scratch;
  let sum = 0;
  let squares = 0;
  for (let j = 0; j < k; j++) {
    const c = offset + cols[x + j];
    let s = src[c + rows[y] * w];
    let q = f32(s * s);
    win[j * k] = s;
    for (let i = 1; i < k; i++) {
      const v = (win[j * k + i] = src[c + rows[y + i] * w]);
      s = f32(s + v);
      q = f32(q + v * v); // the core's addcmul: one rounding (a fused multiply-add; the product is exact in float64)
    }
    sum = j === 0 ? s : f32(sum + s);
    squares = j === 0 ? q : f32(squares + q);
  }
  return [sum, squares];
}

/** sum_i g_i x_(i) / sum_i g_i over the sorted window (scratch.window, sorted here), g = exp(d^2 expo) at rank
 * distance d from the median: the pair sums x[m - d] + x[m + d] weighted, as the core's. */
function weighted(scratch: FilterScratch, expo: number): number {
  const { window: win, pairs } = scratch;
  sortWindow(win);
  const m = win.length >> 1;
  if (m === 0) return win[0];
  for (let d = 1; d <= m; d++) pairs[d - 1] = f32(win[m - d] + win[m + d]);
  if (m === 4) return horner(win[4], pairs[0], pairs[1], pairs[2], pairs[3], expo);
  let num = win[m];
  let den = 0;
  for (let d = 1; d <= m; d++) {
    const g = f32(Math.exp(Math.max(f32(expo * d * d), EXP_FLOOR)));
    num = f32(num + g * pairs[d - 1]);
    den = f32(den + g);
  }
  return f32(num / f32(f32(den * 2) + 1));
}

/** Insertion sort, ascending (k*k values). */
function sortWindow(win: Float64Array): void {
  for (let i = 1; i < win.length; i++) {
    const v = win[i];
    let j = i - 1;
    for (; j >= 0 && win[j] > v; j--) win[j + 1] = win[j];
    win[j + 1] = v;
  }
}
