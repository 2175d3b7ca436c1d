// Derived state: the item on show and its current map, recomputed from the decoded data and the synced traits; nothing here is synced.

import type { DecodedMethod, WireMeta } from "../codec";
import type { Params } from "../methods";
import type { Settings } from "./synced";

/** The item shown when `selected` is unset or out of range: the first answer token, else item 0. */
export function defaultItem(meta: WireMeta): number {
  return meta.n_answer > 0 ? meta.n_prompt : 0;
}

export function validItem(item: unknown, meta: WireMeta): number {
  const n = meta.items.length;
  return typeof item === "number" && Number.isInteger(item) && item >= 0 && item < n ? item : defaultItem(meta);
}

/** The shown item's map; its arrays are overwritten by the next recomputation. */
interface CurrentMap {
  item: number;
  params: Params; // what of the settings the map depends on (the method's params)
  image: Float32Array; // (n_v) in [0, 1], split into frames by meta.frames
  text: Float32Array; // (nText) normalised relevance of items 0 .. nText-1
  nText: number;
  finite: boolean; // false: the item's data hold NaN or infinities, its map is shown as n/a
}

/** Computes one item's map on demand and keeps the last one; a repeat request costs nothing. */
export class MapState {
  private current: CurrentMap | null = null;
  computeCount = 0; // how many maps were actually computed (for tests)

  constructor(readonly method: DecodedMethod) {}

  map(item: number, settings: Settings): CurrentMap {
    const params = this.method.impl.params(settings);
    const c = this.current;
    if (c && c.item === item && sameParams(c.params, params)) return c;
    const maps = this.method.maps.compute(item, params);
    this.computeCount++;
    this.current = { item, params, image: maps.image, text: maps.text.subarray(0, maps.nText), nText: maps.nText, finite: maps.finite ?? true };
    return this.current;
  }
}

function sameParams(a: Params, b: Params): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
