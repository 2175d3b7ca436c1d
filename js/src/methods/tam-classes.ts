/**
 * Another class's map at an item ("why this token and not that one"), exactly as
 * tam_widget/core/result.py TAMResult.class_maps computes it: the class's raw map and text
 * activations (from the candidate set, or an item whose class it is), ECI over the item's earlier
 * items whose token is not that class, the item's visible relevance, normalisation and filter.
 * Sums run in float64 where the core sums in float32: a few ulp apart.
 */

import type { ItemMaps } from "./index";
import { filterFrames } from "./tam-filter";
import type { MapCache } from "./tam-cache";
import { correctRow, InterferenceSum, type MapSettings, normaliseRow, type TamData, Workspace } from "./tam-math";
import { dequantiseRow, type Rows, weightedRows } from "./tam-rows";

const f32 = Math.fround;

/** What class maps need beyond TamData: each item's class and shown token, and the candidate set. */
export interface ClassData {
  classes: Int32Array; // (T) the LM-head row each item explains
  tokenIds: Int32Array; // (T) the token each item shows (the ECI context's repeated-word key)
  candClasses: Int32Array; // (U) sorted distinct ids, none of them an item's class
  candA: Rows; // (U, n_v) raw maps, uint16 per row
  candR: Float32Array; // (U, T) activations at every item's relevance position
  restR: Float32Array; // R[k, n_visible[k] ..] row by row: item k's class's activations at the items it does not show
  restStart: Int32Array; // (T + 1) where item k's row of restR starts
}

/** Class id's raw map (its uint16 rows and the row) and text activations (T), or null when the page does not hold the class. */
export function classRows(data: TamData, cls: ClassData, id: number): { rows: Rows; row: number; r: Float32Array } | null {
  const { T } = data;
  const u = findSorted(cls.candClasses, id);
  if (u >= 0) return { rows: cls.candA, row: u, r: cls.candR.subarray(u * T, (u + 1) * T) };
  const k = cls.classes.indexOf(id);
  if (k < 0) return null;
  return { rows: data.A, row: k, r: classRelevance(data, cls, k) };
}

/** Item k's class's activations at every item: its shown relevance R[k, ..n_visible[k]-1], then the rest. */
function classRelevance(data: TamData, cls: ClassData, k: number): Float32Array {
  const out = new Float32Array(data.T);
  out.set(data.R.subarray(data.rStart[k], data.rStart[k + 1]));
  out.set(cls.restR.subarray(cls.restStart[k], cls.restStart[k + 1]), data.nVisible[k]);
  return out;
}

/** Index of x in the sorted array, -1 when absent. */
export function findSorted(sorted: Int32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === x) return mid;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Class id's displayed map at item (workspace buffers, valid until the next call), or null when
 * not held. cache: where the (item, class) interference is kept once summed.
 */
export function computeClass(data: TamData, cls: ClassData, item: number, id: number, settings: MapSettings, ws: Workspace, cache?: MapCache): ItemMaps | null {
  const rows = classRows(data, cls, id);
  if (!rows) return null;
  const a = dequantiseRow(ws.row, rows.rows, rows.row);
  const E = settings.lambda !== 0 ? classInterferenceCached(ws, data, cls, item, id, rows.r, cache) : ws.interference;
  const s = settings.lambda !== 0 ? lsqScale(a, E) : 0;
  correctRow(ws.corrected, a, s, settings.lambda, E);
  const nText = data.nVisible[item];
  normaliseRow(ws.corrected, ws.text, rows.r.subarray(0, nText));
  ws.eItem = -1; // the interference buffer now holds a class's, not an item's
  if (!settings.filter) return { image: ws.corrected, text: ws.text, nText };
  filterFrames(ws.corrected, ws.filtered, data.frames, ws.filter);
  return { image: ws.filtered, text: ws.text, nText };
}

/** The class's interference at item from the cache, else summed (into a new array kept there; without a cache, ws.interference). */
function classInterferenceCached(ws: Workspace, data: TamData, cls: ClassData, item: number, id: number, r: Float32Array, cache?: MapCache): Float32Array {
  const key = `c${id}:${item}`;
  const hit = cache?.get(key);
  if (hit) return hit;
  const E = classInterference(cache ? new Float32Array(data.nv) : ws.interference, ws.acc, data, cls, item, id, r);
  cache?.put(key, E);
  return E;
}

/** out = sum_k w_k A_k over the context (k < item, token k != id), w = r / (sum r + 1e-8). */
function classInterference(out: Float32Array, acc: Float64Array, data: TamData, cls: ClassData, item: number, id: number, r: Float32Array): Float32Array {
  let total = 0;
  for (let k = 0; k < item; k++) if (cls.tokenIds[k] !== id) total += r[k];
  const denom = f32(f32(total) + 1e-8);
  const weights = weightedRows(data.A, item, (k) => (cls.tokenIds[k] === id || r[k] === 0 ? 0 : f32(r[k] / denom)));
  const sum = new InterferenceSum(data.A, weights, acc);
  sum.step(Infinity);
  return sum.finish(out);
}

/** s = <a, E> / <E, E>, 0 when E = 0 (the core's least_squares_scale). */
function lsqScale(a: Float32Array, E: Float32Array): number {
  let ae = 0;
  let ee = 0;
  for (let i = 0; i < a.length; i++) {
    ae += a[i] * E[i];
    ee += E[i] * E[i];
  }
  return ee > 0 ? f32(f32(ae) / f32(ee)) : 0;
}
