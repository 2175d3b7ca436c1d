/**
 * TAM's earlier decoder layers (the logit lens, explain(..., layers=...)): the same compact arrays
 * as the last layer's under "layer_" names, stacked over the L earlier layers in the order of
 * part.layers (tam-rows.ts readLayers, one decoder for every layer), so each layer's maps are
 * computed exactly as the last layer's (tam-math.ts).
 */

import { WireError } from "../arrays";
import type { Layout, MethodPart } from "../codec";
import type { TamData } from "./tam-math";
import { readLayers, rowPeak } from "./tam-rows";

/** The decoder layers a page holds: every kept index (the last included, as exp.layers) and the layer count. */
export interface LayerInfo {
  kept: number[];
  n: number;
}

/** The earlier layers of one page: each layer's TamData (views on the wire buffer). */
export class LayerSet {
  constructor(
    readonly info: LayerInfo,
    private readonly layers: TamData[],
  ) {}

  /** The earlier layers, in wire order (every kept layer but the last). */
  get earlier(): number[] {
    return this.info.kept.slice(0, -1);
  }

  /** Layer `layer`'s data, or null for the last layer (and any index the page does not hold). */
  data(layer: number): TamData | null {
    const l = this.earlier.indexOf(layer);
    return l < 0 ? null : this.layers[l];
  }

  /** Item's raw-map peak (max over the vision cells, clipped at 0; 0 when not finite) at earlier layer l (wire order). */
  peak(l: number, item: number): number {
    return this.peakOf(this.layers[l], item);
  }

  /** Item's raw-map peak in `data` (any layer's), clipped at 0; 0 when not finite. */
  peakOf(data: TamData, item: number): number {
    const p = rowPeak(data.A, item);
    return p > 0 ? p : 0;
  }
}

/** The page's layers (part.layers, part.n_layers), or null for a page of the last layer only. */
export function layerInfo(part: MethodPart): LayerInfo | null {
  const kept = part.layers;
  const n = part.n_layers;
  if (!Array.isArray(kept) || kept.length < 2) return null;
  const ok = typeof n === "number" && kept.every((i, j) => Number.isInteger(i) && i >= 0 && i < n && (j === 0 || i > kept[j - 1])) && kept[kept.length - 1] === n - 1;
  if (!ok) throw new WireError(`TAM's layers ${JSON.stringify(kept)} must rise to the last of n_layers ${String(n)}.`);
  return { kept: kept as number[], n };
}

/** The earlier layers' arrays checked against the layout, or null when the page holds none. */
export function decodeLayers(buf: ArrayBuffer, part: MethodPart, layout: Layout, kernel: number): LayerSet | null {
  const info = layerInfo(part);
  if (!info) return null;
  return new LayerSet(info, readLayers(buf, part.arrays ?? {}, "layer_", info.kept.length - 1, layout, kernel));
}
