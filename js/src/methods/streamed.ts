/**
 * A method's maps whose big arrays stream from the kernel (stream.ts): each request first asks for
 * the rows it reads and, until they are here, answers "loading" instead of computing from empty rows.
 *
 * Which rows an item reads: an array with one row per item (shape [..., T, width]: TAM's A, the
 * earlier layers' layer_A) holds the item's row and every earlier item's, which its ECI context
 * may weigh: rows 0..item of each T-row block. The candidate maps read every streamed array whole.
 */

import type { Layout } from "../codec";
import type { RowStore, StreamedArray } from "../stream";
import type { ItemMaps, MethodMaps, Params } from "./index";

export const LOADING = "Loading this token's map from the kernel…";
export const UNAVAILABLE = "This token's map could not be had from the kernel (the browser console says why); show the widget again.";

type Forwarded = "facts" | "label" | "caption" | "reliance" | "curves" | "dispose";
const FORWARDED: readonly Forwarded[] = ["facts", "label", "caption", "reliance", "curves", "dispose"];

/** `maps` behind a gate on the rows of `arrays` (every streamed array of this method). */
export function gated(maps: MethodMaps, rows: RowStore, arrays: readonly StreamedArray[], layout: Layout): MethodMaps {
  const gate = new Gate(rows, arrays, layout.T);
  maps.readyWhen?.((item) => gate.has(item)); // background work waits for the rows too
  const out: MethodMaps = {
    get layers() {
      return maps.layers;
    },
    compute: (item: number, params: Params): ItemMaps => (gate.item(item) ? maps.compute(item, params) : loading(layout.nv, gate.failed(item))),
  };
  const classMap = maps.classMap?.bind(maps);
  if (classMap) out.classMap = (item, id, params) => (gate.item(item) && gate.whole() ? classMap(item, id, params) : null);
  const peaks = maps.layerPeaks?.bind(maps);
  if (peaks) out.layerPeaks = (item) => (gate.item(item) ? peaks(item) : new Float32Array(maps.layers?.kept.length ?? 0));
  for (const key of FORWARDED) {
    const fn = maps[key] as ((...args: never[]) => unknown) | undefined;
    if (fn) (out as Record<Forwarded, unknown>)[key] = fn.bind(maps);
  }
  return out;
}

class Gate {
  private readonly blocks: { method: string; name: string; start: number }[]; // each T-row block of a per-item array

  constructor(
    private readonly rows: RowStore,
    private readonly arrays: readonly StreamedArray[],
    T: number,
  ) {
    const perItem = arrays.filter((a) => a.shape[a.shape.length - 2] === T); // the rest: read whole, by whole()
    this.blocks = perItem.flatMap((a) => Array.from({ length: a.rows / T }, (_, l) => ({ method: a.method, name: a.name, start: l * T })));
  }

  /** Ask for the rows `item` reads (every block asked, none skipped); whether they are all here. */
  item(item: number): boolean {
    let ready = true;
    for (const b of this.blocks) ready = this.rows.need(b.method, b.name, b.start + item + 1, b.start) && ready;
    return ready;
  }

  /** Whether the rows `item` reads are here, without asking for them. */
  has(item: number): boolean {
    return this.blocks.every((b) => this.rows.ready(b.method, b.name, b.start + item + 1, b.start));
  }

  /** Whether a block of the rows `item` reads was refused or could not be read (it is not asked again). */
  failed(item: number): boolean {
    return this.blocks.some((b) => this.rows.failed(b.method, b.name, b.start + item + 1, b.start));
  }

  /** Ask for every row of every streamed array; whether they are all here. */
  whole(): boolean {
    let ready = true;
    for (const a of this.arrays) ready = this.rows.need(a.method, a.name, a.rows) && ready;
    return ready;
  }
}

function loading(nv: number, failed: boolean): ItemMaps {
  return { image: new Float32Array(nv), text: new Float32Array(0), nText: 0, notice: failed ? UNAVAILABLE : LOADING, pending: !failed };
}
