/**
 * One item's TAM map, exactly as tam_widget/core computes it (result.py, eci.py, rgf.py): ECI
 * correction, joint min-max normalisation with the text relevance, rank Gaussian filter.
 *
 * The core runs in float32; every elementwise step here is rounded with Math.fround so the
 * results match it bit for bit except for exp() (1 ulp apart at most) and the interference map
 * E_v = omega_v @ A, summed here in float64 where the core's matrix product sums in float32 in its
 * own order (a few ulp). The raw maps stay quantised (tam-rows.ts): the item's row is read back
 * into the workspace and E_v is summed from the uint16 rows. All buffers live in a Workspace
 * allocated once per data set; TamMaps keeps each item's E_v once summed (tam-cache.ts).
 */

import type { FrameMeta } from "../codec";
import type { ItemMaps } from "./index";
import { FilteredFrames, FilterScratch } from "./tam-filter";
import { accumulateRows, dequantiseRow, GROUP, omegaRow, type Rows, relevanceRow, type WeightedRows, weightedRows } from "./tam-rows";

const f32 = Math.fround;

/** The numbers every TAM map is recomputed from (one decoder layer): T items, n_v vision cells. */
export interface TamData {
  T: number;
  nv: number;
  A: Rows; // (T, n_v) raw maps, uint16 per row
  omega: Float32Array; // ECI weights, the strict lower triangle row by row (omegaRow): E_v = omega_v @ A
  scale: Float32Array; // (T) ECI scale s_v; NaN where the item has no ECI context
  R: Float32Array; // text relevance of item k to item v, the shown part row by row (relevanceRow)
  rStart: Int32Array; // (T + 1) where item v's row of R starts
  nVisible: Int32Array; // (T) how many earlier items' relevance item v shows
  kernel: number; // the filter's window side
  frames: FrameMeta[];
}

/** What a map depends on besides the item: lambda = eci ? eci_scale : 0, the filter toggle and the decoder layer (absent: the last). */
export type MapSettings = { lambda: number; filter: boolean; layer?: number };

export class Workspace {
  readonly interference: Float32Array; // (n_v) E_v of item `eItem`, kept while only lambda changes
  eItem = -1;
  readonly row: Float32Array; // (n_v) a raw map read back from its uint16 row
  readonly acc: Float64Array; // (n_v) the sum behind `interference`
  readonly corrected: Float32Array; // (n_v) after ECI, then normalised in place
  readonly filtered: Float32Array; // (n_v) after the rank Gaussian filter (frame by frame, as read: frames)
  readonly text: Float32Array; // (T) normalised relevance of the first nText items
  readonly filter: FilterScratch;
  readonly frames: FilteredFrames; // filters corrected into filtered, the frames read so far

  constructor(nv: number, T: number, kernel: number) {
    this.interference = new Float32Array(nv);
    this.row = new Float32Array(nv);
    this.acc = new Float64Array(nv);
    this.corrected = new Float32Array(nv);
    this.filtered = new Float32Array(nv);
    this.text = new Float32Array(T);
    this.filter = new FilterScratch(kernel);
    this.frames = new FilteredFrames(this.filtered, this.filter);
  }
}

/**
 * The item's displayed map and shown text relevance; both are workspace buffers, valid until the
 * next call. E: the item's interference when the caller holds it (tam-cache.ts), else computed
 * into the workspace, once per item (a slider drag reuses it). With the filter, the map's frames are
 * filtered as they are read: `frame(f)` one (what a panel shows), `image` all of them.
 */
export function computeItem(data: TamData, item: number, settings: MapSettings, ws: Workspace, E?: Float32Array): ItemMaps {
  if (settings.lambda !== 0 && !E && ws.eItem !== item) {
    interferenceInto(ws.interference, data, item, ws.acc);
    ws.eItem = item;
  }
  correctInto(ws.corrected, data, item, settings.lambda, E ?? ws.interference);
  const nText = normaliseInto(ws.corrected, ws.text, data, item);
  if (!settings.filter) return { image: ws.corrected, text: ws.text, nText };
  const frames = ws.frames;
  frames.reset(ws.corrected, data.frames);
  return {
    get image() {
      return frames.all();
    },
    frame: (f: number) => frames.frame(f),
    text: ws.text,
    nText,
  };
}

/** out = E_v = sum_k omega[v, k] A_k (the core's omega @ A, row v) from the uint16 rows, skipping zero weights. */
export function interferenceInto(out: Float32Array, data: TamData, item: number, acc: Float64Array = new Float64Array(data.nv)): Float32Array {
  const sum = itemInterference(data, item, acc);
  sum.step(Infinity);
  return sum.finish(out);
}

/** Item's E_v as a resumable sum (the idle precompute's slices and a direct call give the same bits). */
export function itemInterference(data: TamData, item: number, acc: Float64Array): InterferenceSum {
  const w = omegaRow(data, item);
  return new InterferenceSum(data.A, weightedRows(data.A, w.length, (k) => w[k]), acc);
}

/** sum_j w_j A_kj over weighted rows into acc, GROUP rows at a time, then out = acc + sum_j w_j lo_kj. */
export class InterferenceSum {
  private next = 0; // the weighted rows summed so far

  constructor(
    private readonly rows: Rows,
    private readonly weights: WeightedRows,
    private readonly acc: Float64Array,
  ) {
    acc.fill(0);
  }

  /** Sums groups of rows until all are in (true) or until `until` (performance.now() ms) has passed. */
  step(until: number): boolean {
    const { count } = this.weights;
    while (this.next < count) {
      const to = Math.min(count, this.next + GROUP * 4);
      accumulateRows(this.acc, this.rows, this.weights, this.next, to);
      this.next = to;
      if (until !== Infinity && performance.now() >= until) break;
    }
    return this.next >= count;
  }

  /** out = the finished sum in float32. */
  finish(out: Float32Array): Float32Array {
    const { acc } = this;
    const { base } = this.weights;
    for (let i = 0; i < out.length; i++) out[i] = acc[i] + base;
    return out;
  }
}

/** out = max(0, A_v - lambda * s_v * E_v); lambda = 0 returns A_v unclamped, as the core does. */
export function correctInto(out: Float32Array, data: TamData, item: number, lambda: number, E: Float32Array): void {
  correctRow(out, dequantiseRow(out, data.A, item), data.scale[item], lambda, E);
}

/** out = max(0, a - lambda * s * E) for one raw map a (NaN s: no context, 0); lambda = 0 copies a. out may be a. */
export function correctRow(out: Float32Array, a: Float32Array, s: number, lambda: number, E: Float32Array): void {
  if (lambda === 0) return out.set(a);
  const ls = f32(f32(lambda) * (Number.isNaN(s) ? 0 : s));
  for (let i = 0; i < a.length; i++) {
    const x = f32(a[i] - f32(ls * E[i]));
    out[i] = x > 0 ? x : 0;
  }
}

/**
 * Joint min-max of the image map (in place) and R[item, k] for k < n_visible[item] (into text).
 * All zeros when the span is not positive. Returns n_visible[item], the number of text entries.
 */
export function normaliseInto(image: Float32Array, text: Float32Array, data: TamData, item: number): number {
  normaliseRow(image, text, relevanceRow(data, item));
  return data.nVisible[item];
}

/** Joint min-max of image (in place) and the shown relevance row (into text); all zeros without spread. */
export function normaliseRow(image: Float32Array, text: Float32Array, row: Float32Array): void {
  const lo = Math.min(lowest(image), lowest(row));
  const span = f32(Math.max(highest(image), highest(row)) - lo);
  if (!(span > 0)) {
    image.fill(0);
    text.fill(0, 0, row.length);
    return;
  }
  for (let i = 0; i < image.length; i++) image[i] = f32(image[i] - lo) / span;
  for (let k = 0; k < row.length; k++) text[k] = f32(row[k] - lo) / span;
}

/** The smallest value (Infinity when empty; NaNs are skipped). */
function lowest(x: Float32Array): number {
  let lo = Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] < lo) lo = x[i];
  return lo;
}

function highest(x: Float32Array): number {
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > hi) hi = x[i];
  return hi;
}
