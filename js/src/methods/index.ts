/**
 * The attribution methods the browser can show, one module each behind MethodImpl. The wire's
 * meta.methods[name] part is decoded by METHODS[name]; the views only ever see a method's maps.
 * To add a method: write methods/<name>.ts (decode its arrays, compute one item's maps, a
 * label) and register it below, beside tam_widget/methods/<name>.py, which sends the arrays.
 */

import { WireError } from "../arrays";
import type { Layout, MethodPart } from "../codec";
import type { Settings } from "../state/synced";
import { EAGLE } from "./eagle";
import { TAM } from "./tam";
import type { LayerInfo } from "./tam-layers";

/** The settings a method's maps depend on, normalised: equal params give equal maps. */
export type Params = Readonly<Record<string, number | boolean>>;

/** One item's displayed maps; the arrays may be overwritten by the method's next computation. */
export interface ItemMaps {
  image: Float32Array; // (n_v) in [0, 1], split into frames by meta.frames
  /** The same buffer as image, where only frame f (an index into meta.frames) need be ready: a method that
   * computes its maps frame by frame (TAM's filter) does no more for a panel showing one frame. */
  frame?(f: number): Float32Array;
  text: Float32Array; // entries 0 .. nText-1 in [0, 1]: relevance of the earlier items
  nText: number;
  /** false when the item's data hold NaN or infinite values: the map means nothing and is shown as n/a. */
  finite?: boolean;
  /** Why the method has no map for this item (it did not explain it): the image is flat, the page says this. */
  notice?: string;
  /** The rows this map needs are still on their way from the kernel (stream.ts): shown with its notice, never kept. */
  pending?: boolean;
}

/** One faithfulness curve: x the share of the image shown, y a probability; auc its trapezoid area. */
export interface Curve {
  x: readonly number[];
  y: readonly number[];
  auc: number;
}

/** An item's insertion and deletion curves, and the means over every token the method explained. */
export interface ItemCurves {
  insertion: Curve;
  deletion: Curve;
  meanInsertion: Curve;
  meanDeletion: Curve;
}

/** A method's decoded data: computes any item's maps on demand. */
export interface MethodMaps {
  compute(item: number, params: Params): ItemMaps;
  /** Token id's map at item, as if the item had that token (null: the page holds no map for it). */
  classMap?(item: number, id: number, params: Params): ItemMaps | null;
  /** What the method knows about one item beyond its maps, for the token tooltip (TAM: the ECI scale s_v). */
  facts?(item: number, params?: Params): { label: string; value: string }[];
  /** The decoder layers the page holds, kept[] with the last among them (TAM with layers); null or absent: one. */
  readonly layers?: LayerInfo | null;
  /** Per kept layer, the item's raw-map peak as a share of its largest across layers (TAM with layers). */
  layerPeaks?(item: number): Float32Array;
  /** What the current settings compute, when it depends on the data (EAGLE: its variant, regions, images scored). */
  label?(settings: Settings): string;
  /** What the image shows, for the legend (default: "activation on the image"). */
  caption?(): string;
  /** Per item, how much the token relies on the image (EAGLE's R_t); NaN for items the method did not explain. */
  reliance?(): Float32Array;
  /** The item's faithfulness curves; null when the method did not explain it. */
  curves?(item: number): ItemCurves | null;
  /** Stops work the maps do in the background (TAM's idle precompute); the widget is gone. */
  dispose?(): void;
  /** Background work (TAM's idle precompute) takes only items whose streamed rows `ready` says are here. */
  readyWhen?(ready: (item: number) => boolean): void;
}

export interface MethodImpl {
  readonly title: string;
  /** Read and check this method's arrays (part.arrays: absolute offsets into buf). */
  decode(buf: ArrayBuffer, part: MethodPart, layout: Layout): MethodMaps;
  /** What of the view traits this method's maps depend on. */
  params(settings: Settings): Params;
  /** What the current settings compute, in the method's words. */
  label(settings: Settings): string;
  /** false when meta.signal (TAM's raw-map peaks and noise floor) does not describe this method's maps. */
  readonly signal?: boolean;
  /** The method's paper (default: TAM's), linked from its name. */
  readonly paper?: { url: string; title: string };
}

export const METHODS: Record<string, MethodImpl> = { tam: TAM, eagle: EAGLE };

/** The method registered as `name`; a page from a newer tam-widget may name one this bundle lacks. */
export function methodImpl(name: string): MethodImpl {
  if (Object.hasOwn(METHODS, name)) return METHODS[name];
  const known = Object.keys(METHODS).join(", ");
  throw new WireError(`This page was made by a newer tam-widget: method "${name}" unknown (this front end knows ${known}).`);
}
