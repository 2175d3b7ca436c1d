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
  readonly image: Float32Array; // (n_v) in [0, 1], split into frames by meta.frames
  frame?(f: number): Float32Array; // image with frame f ready (ItemMaps.frame)
  text: Float32Array; // (nText) normalised relevance of items 0 .. nText-1
  nText: number;
  finite: boolean; // false: the item's data hold NaN or infinities, its map is shown as n/a
  notice?: string; // the method has no map for this item, and says why (ItemMaps.notice)
  pending?: boolean; // its rows are still on their way from the kernel: recomputed on the next request
}

/** Computes one item's map on demand and keeps the last one; a repeat request costs nothing. */
export class MapState {
  private current: CurrentMap | null = null;
  computeCount = 0; // how many maps were actually computed (for tests)

  constructor(readonly method: DecodedMethod) {}

  map(item: number, settings: Settings): CurrentMap {
    const params = this.method.impl.params(settings);
    const c = this.current;
    if (c && !c.pending && c.item === item && sameParams(c.params, params)) return c;
    const maps = this.method.maps.compute(item, params);
    this.computeCount++;
    const text = maps.text.subarray(0, maps.nText);
    this.current = {
      item,
      params,
      get image() {
        return maps.image; // read when asked for: a map filtered frame by frame (ItemMaps.frame) stays so
      },
      frame: maps.frame?.bind(maps),
      text,
      nText: maps.nText,
      finite: maps.finite ?? true,
      notice: maps.notice,
      pending: maps.pending,
    };
    return this.current;
  }
}

function sameParams(a: Params, b: Params): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** A shown map that is not the item's own: another class's ("class"), or the signed difference of two ("contrast"). */
export interface PickedMap {
  image: Float32Array; // (n_v): a class map in [0, 1], or a contrast in [-1, 1]
  text: Float32Array; // the class map's relevance of items 0 .. nText-1 (contrast: none)
  nText: number;
  finite: boolean;
}

/**
 * Maps of other classes at an item (methods that support classMap: TAM), and contrasts of two:
 * map(a) - map(b), each as the method computes it for the item. Null when the page holds no map
 * for a class (a page without candidates, or a token never among them).
 */
export class ClassMaps {
  private readonly diff: Float32Array;

  constructor(
    readonly method: DecodedMethod,
    nv: number,
  ) {
    this.diff = new Float32Array(nv);
  }

  get available(): boolean {
    return typeof this.method.maps.classMap === "function";
  }

  classMap(item: number, id: number, settings: Settings): PickedMap | null {
    const maps = this.method.maps.classMap?.(item, id, this.method.impl.params(settings)) ?? null;
    return maps && { image: maps.image, text: maps.text.subarray(0, maps.nText), nText: maps.nText, finite: maps.finite ?? true };
  }

  contrast(item: number, a: number, b: number, settings: Settings): PickedMap | null {
    const first = this.classMap(item, a, settings);
    if (!first) return null;
    this.diff.set(first.image); // the next classMap call overwrites first.image
    const second = this.classMap(item, b, settings);
    if (!second) return null;
    for (let i = 0; i < this.diff.length; i++) this.diff[i] = Math.fround(this.diff[i] - second.image[i]);
    return { image: this.diff, text: new Float32Array(0), nText: 0, finite: first.finite && second.finite };
  }
}
