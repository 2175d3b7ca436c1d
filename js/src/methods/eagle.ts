/**
 * EAGLE (Chen et al., CVPR 2026) in the browser: reads what tam_widget/methods/eagle.py's
 * wire_arrays sends with the page's explanation: `grid` (n_v), the attribution map averaged on the
 * vision cells; `items` (T_e), the item each explained token is; the per-token insertion and
 * deletion curves (N, T_e) over `region_area` (N); and per token its reliance on the image R_t, its
 * prior π_t (p with a black image), its lift Δ_t and p with the full image. EAGLE explains its
 * tokens jointly: one map for all of them, which no setting changes. An item it did not explain
 * gets a flat map and a notice saying so.
 */

import { readFloat32, readInt32, WireError } from "../arrays";
import type { Layout, MethodPart } from "../codec";
import type { Curve, ItemCurves, ItemMaps, MethodImpl, MethodMaps } from "./index";

export const EAGLE_PAPER = "https://arxiv.org/abs/2509.22496";

export interface EagleData {
  N: number; // regions ranked
  Te: number; // tokens explained
  grid: Float32Array; // (n_v) in [0, 1]
  items: Int32Array; // (Te) the item each explained token is; -1: not an item of the page
  tokenOf: Int32Array; // (T) the explained token each item is; -1: not explained
  insertion: Float32Array; // (N, Te) p_t with only the first k + 1 regions shown
  deletion: Float32Array; // (N, Te) p_t with the first k + 1 regions blacked out
  area: Float32Array; // (N) the cumulative share of the image those regions cover
  reliance: Float32Array; // (Te) R_t
  prior: Float32Array; // (Te) π_t = p_t(black image)
  lift: Float32Array; // (Te) Δ_t = p_t(full) − p_t(black)
  org: Float32Array; // (Te) p_t(full image)
  variant: string;
  imagesScored: number;
}

/** Area under a curve by the trapezoid rule, positive whichever way x runs (Python's eagle_maps.curve_auc). */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 1; i < x.length; i++) sum += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return Math.abs(sum);
}

/** A curve through (x0, y0), then (x(area_k), ys_k) for k = 0 .. N-1. */
function curve(x0: number, y0: number, area: Float32Array, x: (a: number) => number, ys: ArrayLike<number>): Curve {
  const xs = [x0, ...Array.from(area, x)];
  const yv = [y0, ...Array.from(ys)];
  return { x: xs, y: yv, auc: trapezoid(xs, yv) };
}

/** Insertion (spec §2.4): (0, π) then (area_k, ins_k). Deletion: (1, p_full) then (1 − area_k, del_k). */
export function insertionCurve(area: Float32Array, ys: ArrayLike<number>, prior: number): Curve {
  return curve(0, prior, area, (a) => a, ys);
}

export function deletionCurve(area: Float32Array, ys: ArrayLike<number>, full: number): Curve {
  return curve(1, full, area, (a) => 1 - a, ys);
}

function count(value: unknown, name: string, lo = 1): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < lo) throw new WireError(`EAGLE's ${name} must be an integer >= ${lo}, got ${JSON.stringify(value)}.`);
  return value;
}

/** Each item's explained token (-1: none); every explained token names at most one item, once. */
function tokenIndex(items: Int32Array, T: number): Int32Array {
  const out = new Int32Array(T).fill(-1);
  items.forEach((item, t) => {
    if (item < -1 || item >= T) throw new WireError(`EAGLE's items[${t}] = ${item} is outside -1..${T - 1}.`);
    if (item >= 0 && out[item] >= 0) throw new WireError(`EAGLE's items name item ${item} twice.`);
    if (item >= 0) out[item] = t;
  });
  return out;
}

/** EAGLE's part of the wire as typed views on buf, checked against the shared layout. */
export function decodeEagle(buf: ArrayBuffer, part: MethodPart, layout: Layout): EagleData {
  const a = part.arrays ?? {};
  if (!a.grid || !a.items) {
    throw new WireError("EAGLE's part of the wire has no grid or items: it was encoded without an explanation (wire_arrays(result) alone). Show the explanation (exp.widget(), exp.save_html) instead.");
  }
  const N = count(part.n_regions, "n_regions");
  const Te = count(part.n_tokens, "n_tokens");
  const perToken = (name: string) => readFloat32(buf, name, a[name], [Te]);
  const items = readInt32(buf, "items", a.items, [Te]);
  return {
    N,
    Te,
    grid: readFloat32(buf, "grid", a.grid, [layout.nv]),
    items,
    tokenOf: tokenIndex(items, layout.T),
    insertion: readFloat32(buf, "insertion_tokens", a.insertion_tokens, [N, Te]),
    deletion: readFloat32(buf, "deletion_tokens", a.deletion_tokens, [N, Te]),
    area: readFloat32(buf, "region_area", a.region_area, [N]),
    reliance: perToken("word_reliance"),
    prior: perToken("prior"),
    lift: perToken("lift"),
    org: perToken("org_score"),
    variant: typeof part.variant === "string" ? part.variant : "?",
    imagesScored: count(part.images_scored, "images_scored", 0),
  };
}

/** Token t's column of an (N, Te) array. */
function column(x: Float32Array, t: number, Te: number): Float32Array {
  return Float32Array.from({ length: x.length / Te }, (_, k) => x[k * Te + t]);
}

/** The mean over tokens of each row of an (N, Te) array. */
function rowMeans(x: Float32Array, Te: number): Float64Array {
  return Float64Array.from({ length: x.length / Te }, (_, k) => mean(x.subarray(k * Te, (k + 1) * Te)));
}

function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

const fixed = (x: number, sign = false) => (Number.isFinite(x) ? `${sign && x >= 0 ? "+" : ""}${x.toFixed(3)}` : "n/a");

/** Decoded EAGLE data: one map for the explained items, a flat one (and a notice) for the rest. */
export class EagleMaps implements MethodMaps {
  private readonly flat: Float32Array;
  private readonly none = new Float32Array(0);
  private readonly byItem: Float32Array;
  private readonly finite: boolean;
  private readonly means: { insertion: Curve; deletion: Curve };

  constructor(readonly data: EagleData) {
    this.flat = new Float32Array(data.grid.length);
    this.finite = data.grid.every(Number.isFinite);
    this.byItem = new Float32Array(data.tokenOf.length).fill(Number.NaN);
    data.tokenOf.forEach((t, item) => t >= 0 && (this.byItem[item] = data.reliance[t]));
    const { area, insertion, deletion, prior, org, Te } = data;
    this.means = { insertion: insertionCurve(area, rowMeans(insertion, Te), mean(prior)), deletion: deletionCurve(area, rowMeans(deletion, Te), mean(org)) };
  }

  compute(item: number): ItemMaps {
    if ((this.data.tokenOf[item] ?? -1) < 0) return { image: this.flat, text: this.none, nText: 0, notice: this.notice() };
    return { image: this.data.grid, text: this.none, nText: 0, finite: this.finite };
  }

  label(): string {
    return `EAGLE (${this.data.variant}, ${this.data.N} regions, ${this.data.imagesScored} images)`;
  }

  caption(): string {
    return `EAGLE's attribution: one map for the ${this.data.Te} tokens it explained together`;
  }

  reliance(): Float32Array {
    return this.byItem;
  }

  facts(item: number): { label: string; value: string }[] {
    const t = this.data.tokenOf[item] ?? -1;
    if (t < 0) return [{ label: "EAGLE", value: "not explained" }];
    const { reliance, prior, lift, org } = this.data;
    return [
      { label: "Rₜ reliance on the image", value: fixed(reliance[t]) },
      { label: "πₜ prior (p, black image)", value: fixed(prior[t]) },
      { label: "Δₜ lift p(full) − p(black)", value: fixed(lift[t], true) },
      { label: "p(full image)", value: fixed(org[t]) },
    ];
  }

  curves(item: number): ItemCurves | null {
    const t = this.data.tokenOf[item] ?? -1;
    if (t < 0) return null;
    const { area, insertion, deletion, prior, org, Te } = this.data;
    return {
      insertion: insertionCurve(area, column(insertion, t, Te), prior[t]),
      deletion: deletionCurve(area, column(deletion, t, Te), org[t]),
      meanInsertion: this.means.insertion,
      meanDeletion: this.means.deletion,
    };
  }

  /** What the page says for an item EAGLE did not explain: which it did. */
  private notice(): string {
    const items = Array.from(this.data.items);
    const [lo, hi] = [Math.min(...items), Math.max(...items)];
    const which = lo >= 0 && hi - lo + 1 === items.length ? ` (#${lo}–#${hi})` : ""; // a run of items: name it
    return `EAGLE explained ${this.data.Te} token${this.data.Te === 1 ? "" : "s"}${which} together, not this one: it has no EAGLE map.`;
  }
}

export const EAGLE = {
  title: "EAGLE",
  decode: (buf: ArrayBuffer, part: MethodPart, layout: Layout) => new EagleMaps(decodeEagle(buf, part, layout)),
  params: () => ({}), // EAGLE's map depends on no view setting
  label: () => "EAGLE",
  signal: false, // meta.signal is TAM's
  paper: { url: EAGLE_PAPER, title: "EAGLE (Chen et al., CVPR 2026): the paper" },
} satisfies MethodImpl;
