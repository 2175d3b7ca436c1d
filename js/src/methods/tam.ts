/**
 * TAM (Li et al., ICCV 2025) in the browser: reads the arrays tam_widget/methods/tam.py sends
 * (every layer's compact A, omega, scale, R, n_visible: tam-rows.ts; the filter's kernel) and
 * recomputes any item's map for the ECI scale and filter toggles (tam-math.ts, tam-filter.ts).
 */

import { readFloat32, readInt32, WireError } from "../arrays";
import type { Layout, MethodPart } from "../codec";
import { clamp, type Settings } from "../state/synced";
import type { ItemMaps, MethodImpl, MethodMaps } from "./index";
import { type ClassData, computeClass } from "./tam-classes";
import { browserIdle, type CacheKey, type IdleHost, type Job, type JobSource, MapCache, nearestFirst, Precompute } from "./tam-cache";
import { computeItem, interferenceInto, itemInterference, type MapSettings, type TamData, Workspace } from "./tam-math";
import { decodeLayers, type LayerInfo, type LayerSet } from "./tam-layers";
import { omegaRow, readLayers, readRows, relevanceRow, rowFinite } from "./tam-rows";

/** lambda = eci ? eci_scale clamped to 0..2 : 0, the filter toggle and, on a page with layers, the decoder layer. */
export function mapSettings(s: Settings): MapSettings {
  const base = { lambda: s.eci ? clamp(s.eciScale, 0, 2) : 0, filter: s.filter };
  return Number.isInteger(s.layer) && (s.layer as number) >= 0 ? { ...base, layer: s.layer as number } : base;
}

/** What the current settings compute, in the paper's words. */
export function methodLabel(s: Settings): string {
  const { lambda, filter } = mapSettings(s);
  if (lambda === 0) return filter ? "CAM + rank Gaussian filter (no ECI)" : "CAM";
  const eci = lambda === 1 ? "ECI" : `ECI ×${lambda.toFixed(2)}`;
  return filter ? `TAM (${eci} + filter)` : `${eci}, no filter`;
}

/** TAM's part of the wire (the last layer) as typed views on buf, checked against the shared layout. */
function decodeTam(buf: ArrayBuffer, part: MethodPart, layout: Layout): TamData {
  return readLayers(buf, part.arrays ?? {}, "", null, layout, checkKernel(part.kernel))[0];
}

/** The class-map arrays (pages from tam-widget 0.x before candidates lack them: null). */
function decodeClasses(buf: ArrayBuffer, part: MethodPart, layout: Layout): ClassData | null {
  const a = part.arrays ?? {};
  if (!a.candidate_classes || !a.classes) return null;
  const { T, nv } = layout;
  const U = a.candidate_classes.shape[0] ?? 0;
  const nVisible = readInt32(buf, "n_visible", a.n_visible, [T]);
  const restStart = new Int32Array(T + 1);
  for (let k = 0; k < T; k++) restStart[k + 1] = restStart[k] + T - nVisible[k]; // n_visible checked by decodeTam
  return {
    classes: readInt32(buf, "classes", a.classes, [T]),
    tokenIds: readInt32(buf, "token_ids", a.token_ids, [T]),
    candClasses: readInt32(buf, "candidate_classes", a.candidate_classes, [U]),
    candA: readRows(buf, a, "candidate_A", [U, nv]),
    candR: readFloat32(buf, "candidate_R", a.candidate_R, [U, T]),
    restR: readFloat32(buf, "R_rest", a.R_rest, [restStart[T]]),
    restStart,
  };
}

function checkKernel(k: unknown): number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k % 2 === 0) throw new WireError(`Kernel ${k} must be an odd integer >= 1.`);
  return k;
}

const PLAIN_OK = 1; // A_v and the shown part of R_v are finite: the map without ECI means something
const ECI_OK = 2; // and so are s_v (NaN: no ECI context, fine), omega_v and every A_k it weighs: ECI too

/**
 * Per item, which of its maps can be trusted (PLAIN_OK | ECI_OK bits). A NaN or an infinity in an
 * item's data would otherwise come out as a plausible-looking map (max(0, NaN) is 0, an infinite
 * span normalises everything to 0), a silent wrong result; the view shows such an item as n/a.
 */
export function finiteItems(data: TamData): Uint8Array {
  const { T, A, scale } = data;
  const allFinite = (x: Float32Array) => x.every(Number.isFinite);
  const out = new Uint8Array(T);
  for (let v = 0; v < T; v++) {
    if (!rowFinite(A, v) || !allFinite(relevanceRow(data, v))) continue;
    const w = omegaRow(data, v);
    let eci = !(scale[v] === Infinity || scale[v] === -Infinity) && allFinite(w);
    for (let k = 0; eci && k < v; k++) if (w[k] !== 0 && !rowFinite(A, k)) eci = false;
    out[v] = PLAIN_OK | (eci ? ECI_OK : 0);
  }
  return out;
}

/** What every layer's maps share: the interference cache, its idle precompute (null: none) and counts of the sums done. */
export interface Shared {
  cache: MapCache;
  precompute: Precompute | null;
  sums: { direct: number; idle: number };
  ready: (item: number) => boolean; // whether the rows item reads are here (a streamed page's may not be yet)
}

/** A cache of `budget` bytes, precomputed in `idle` time (null: only what switches compute). */
export function makeShared(budget?: number, idle: IdleHost | null = null): Shared {
  return { cache: new MapCache(budget), precompute: idle ? new Precompute(idle) : null, sums: { direct: 0, idle: 0 }, ready: () => true };
}

/** Decoded TAM data (the last layer's), the workspace its maps are computed in (allocated once) and each item's E_v once summed. */
export class TamMaps implements MethodMaps, JobSource {
  private readonly ws: Workspace;
  readonly finite: Uint8Array; // finiteItems(data)

  private readonly classWs: Workspace; // class maps keep the items' cached interference intact
  private readonly earlier = new Map<number, TamMaps>(); // each earlier layer's maps, made when first shown
  private readonly idleAcc: Float64Array; // the precompute's running sum (one item at a time)

  constructor(
    readonly data: TamData,
    readonly classes: ClassData | null = null,
    readonly layerSet: LayerSet | null = null,
    readonly shared: Shared = makeShared(),
    private readonly layerKey = "", // cache keys of an earlier layer's maps: `${layer}:${item}`
  ) {
    this.ws = new Workspace(data.nv, data.T, data.kernel);
    this.classWs = new Workspace(data.nv, data.T, data.kernel);
    this.finite = finiteItems(data);
    this.idleAcc = new Float64Array(data.nv);
  }

  /** The decoder layers the page holds (null: the last only). */
  get layers(): LayerInfo | null {
    return this.layerSet?.info ?? null;
  }

  /** The maps of params.layer: an earlier layer's, or these (the last layer's, and any layer the page lacks). */
  at(layer: number | undefined): TamMaps {
    const data = layer === undefined ? null : (this.layerSet?.data(layer) ?? null);
    if (!data || layer === undefined) return this;
    let maps = this.earlier.get(layer);
    if (!maps) this.earlier.set(layer, (maps = new TamMaps(data, null, null, this.shared, `${layer}:`)));
    return maps;
  }

  /** Per kept layer (LayerInfo.kept order), the item's raw-map peak over its largest across layers (0 when none is positive). */
  layerPeaks(item: number): Float32Array {
    const set = this.layerSet;
    if (!set) return new Float32Array(0);
    const peaks = Float32Array.from(set.earlier, (_, l) => set.peak(l, item));
    const out = Float32Array.from([...peaks, set.peakOf(this.data, item)]);
    const top = Math.max(...out);
    return top > 0 ? out.map((p) => p / top) : out.fill(0);
  }

  classMap(item: number, id: number, params: MapSettings): ItemMaps | null {
    // candidates are the last layer's (tam.py): none at an earlier layer
    if (!this.classes || this.at(params.layer) !== this) return null;
    const maps = computeClass(this.data, this.classes, item, id, params, this.classWs, this.shared.cache);
    if (maps) maps.finite = maps.image.every(Number.isFinite);
    return maps;
  }

  compute(item: number, params: MapSettings): ItemMaps {
    const maps = this.at(params.layer);
    return maps === this ? this.computeHere(item, params) : maps.computeHere(item, params);
  }

  private computeHere(item: number, params: MapSettings): ItemMaps {
    const ok = this.finite[item] ?? 0;
    const eci = params.lambda !== 0 && item >= 0 && item < this.data.T;
    const maps = computeItem(this.data, item, params, this.ws, eci ? this.interference(item) : undefined);
    maps.finite = params.lambda === 0 ? (ok & PLAIN_OK) !== 0 : (ok & ECI_OK) !== 0;
    if (eci) this.shared.precompute?.start(this, item); // after this paint, the other items' E_v, nearest first
    return maps;
  }

  /** Item's E_v: cached, else summed now (and cached). */
  interference(item: number): Float32Array {
    const key = this.key(item);
    const hit = this.shared.cache.get(key);
    if (hit) return hit;
    const E = interferenceInto(new Float32Array(this.data.nv), this.data, item, this.ws.acc);
    this.shared.sums.direct++;
    this.shared.cache.put(key, E);
    return E;
  }

  private key(item: number): CacheKey {
    return this.layerKey ? this.layerKey + item : item;
  }

  /** JobSource: the items nearest centre first. */
  order(centre: number): Iterable<number> {
    return nearestFirst(centre, this.data.T);
  }

  /** JobSource: item's E_v summed in slices into the cache; null when cached, "full" when the cache has no room left. */
  job(item: number): Job | null | "full" {
    const { cache, sums } = this.shared;
    const key = this.key(item);
    if (cache.has(key) || !this.shared.ready(item)) return null; // not here yet: a later start takes it
    if (!cache.fits(4 * this.data.nv)) return "full";
    const sum = itemInterference(this.data, item, this.idleAcc);
    return {
      step: (until) => {
        if (!sum.step(until)) return false;
        if (!cache.has(key)) cache.put(key, sum.finish(new Float32Array(this.data.nv))); // a switch may have summed it meanwhile
        sums.idle++;
        return true;
      },
    };
  }

  /** Precompute only items whose rows `ready` says are here (a streamed page, methods/streamed.ts). */
  readyWhen(ready: (item: number) => boolean): void {
    this.shared.ready = ready;
  }

  /** Stops the idle precompute (the widget is gone). */
  dispose(): void {
    this.shared.precompute?.dispose();
  }

  /** The item's ECI scale s_v (the least-squares weight of its interference; NaN: no ECI context) at the shown layer, and the layer. */
  facts(item: number, params?: MapSettings): { label: string; value: string }[] {
    const s = this.at(params?.layer).data.scale[item];
    const value = Number.isFinite(s) ? s.toPrecision(3) : Number.isNaN(s) ? "n/a (no ECI context)" : "n/a (not finite)";
    const info = this.layers;
    if (!info) return [{ label: "ECI scale sᵥ", value }];
    const layer = params?.layer !== undefined && info.kept.includes(params.layer) ? params.layer : info.n - 1;
    const peak = this.layerPeaks(item)[info.kept.indexOf(layer)] ?? 0;
    return [{ label: "ECI scale sᵥ", value }, { label: "layer", value: `${layer} / ${info.n}: peak ${Math.round(100 * peak)}% of its strongest layer` }];
  }
}

export const TAM = {
  title: "TAM",
  decode: (buf: ArrayBuffer, part: MethodPart, layout: Layout) => {
    const data = decodeTam(buf, part, layout);
    return new TamMaps(data, decodeClasses(buf, part, layout), decodeLayers(buf, part, layout, data.kernel), makeShared(undefined, browserIdle()));
  },
  params: mapSettings,
  label: methodLabel,
} satisfies MethodImpl;
