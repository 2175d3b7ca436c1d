// Derived state only: the item on show and its current map, recomputed from the data and the synced traits; nothing here is synced.

import type { TamData, WireMeta } from "./codec";
import { computeItem, type MapSettings, Workspace } from "./math";

/** The synced traits a map depends on. */
export interface Settings {
  eciScale: number;
  eci: boolean;
  filter: boolean;
}

export function mapSettings(s: Settings): MapSettings {
  return { lambda: s.eci ? clamp(s.eciScale, 0, 2) : 0, filter: s.filter };
}

/** The item shown when `selected` is unset or out of range: the first answer token, else item 0. */
export function defaultItem(meta: WireMeta): number {
  return meta.n_answer > 0 ? meta.n_prompt : 0;
}

export function validItem(item: unknown, meta: WireMeta): number {
  const n = meta.items.length;
  return typeof item === "number" && Number.isInteger(item) && item >= 0 && item < n ? item : defaultItem(meta);
}

/** What the current settings compute, in the paper's words. */
export function methodLabel(s: Settings): string {
  const { lambda, filter } = mapSettings(s);
  if (lambda === 0) return filter ? "CAM + rank Gaussian filter (no ECI)" : "CAM";
  const eci = lambda === 1 ? "ECI" : `ECI ×${lambda.toFixed(2)}`;
  return filter ? `TAM (${eci} + filter)` : `${eci}, no filter`;
}

/** The shown item's map; its arrays are overwritten by the next recomputation. */
export interface CurrentMap {
  item: number;
  settings: MapSettings;
  image: Float32Array; // (n_v) in [0, 1], split into frames by meta.frames
  text: Float32Array; // (nText) normalised relevance of items 0 .. nText-1
  nText: number;
}

/** Computes one item's map on demand and keeps the last one; a repeat request costs nothing. */
export class MapState {
  private readonly ws: Workspace;
  private current: CurrentMap | null = null;
  computeCount = 0; // how many maps were actually computed (for tests)

  constructor(readonly data: TamData) {
    this.ws = new Workspace(data.nv, data.T, data.kernel);
  }

  map(item: number, settings: Settings): CurrentMap {
    const ms = mapSettings(settings);
    const c = this.current;
    if (c && c.item === item && c.settings.lambda === ms.lambda && c.settings.filter === ms.filter) return c;
    const maps = computeItem(this.data, item, ms, this.ws);
    this.computeCount++;
    this.current = { item, settings: ms, image: maps.image, text: maps.text.subarray(0, maps.nText), nText: maps.nText };
    return this.current;
  }
}

export function clamp(x: number, lo: number, hi: number): number {
  return Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo;
}
