/**
 * The compare widget's traits. This interface mirrors the synced traits of CompareWidget in
 * tam_widget/display/compare_widget.py: each side exactly as a TAMWidget gets it (wire.py), the
 * alignment, and the view traits both sides share.
 */

import type { AnyModel } from "@anywidget/types";
import type { WireMeta } from "../codec";
import type { ColormapName } from "../colormap";

/** compare_widget.py's compare_meta: the aligned rows and what changed. */
export interface CompareMeta {
  rows: [number, number][]; // [item of a, item of b] per row, -1: that side has no such token
  changed: boolean[]; // per row: a side missing, another token, or maps that differ
  labels: [string, string];
  same_grids: boolean; // the two explanations' grids match: a − b can be drawn
}

export interface CompareModel {
  _data_a: DataView;
  _meta_a: WireMeta;
  _images_a: DataView[];
  _data_b: DataView;
  _meta_b: WireMeta;
  _images_b: DataView[];
  _compare: CompareMeta;
  /** The aligned row shown in both views. */
  selected_row: number;
  eci_scale: number;
  eci: boolean;
  filter: boolean;
  /** The decoder layer; a side that did not keep it shows its last. */
  layer: number;
  colormap: ColormapName;
  opacity: number;
  /** Show the difference a − b (where the grids match). */
  difference: boolean;
}

export type CompareWidgetModel = AnyModel<CompareModel>;

/** Whether a model is a compare widget's (widget.ts picks the entry by this). */
export function isCompare(model: { get(key: string): unknown }): boolean {
  const c = model.get("_compare");
  return typeof c === "object" && c !== null && Array.isArray((c as CompareMeta).rows);
}
