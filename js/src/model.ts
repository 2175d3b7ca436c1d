/**
 * The widget's traits. This interface mirrors the synced traits of TAMWidget in
 * tam_widget/display/widget.py: same names, types and defaults (tests/display/test_model_interface.py
 * checks the names and types). state/synced.ts says which of them the browser may set.
 */

import type { AnyModel } from "@anywidget/types";
import type { WireMeta } from "./codec";
import type { ColormapName } from "./colormap";

export interface Model {
  /** Every method's arrays in one buffer (wire.py's); read-only in the browser, never saved back. */
  _data: DataView;
  /** wire.py's metadata (method tag, items, views, frames...); read-only in the browser. */
  _meta: WireMeta;
  /** One PNG per image or video frame (meta.images[i] says which); read-only in the browser. */
  _images: DataView[];
  /** The method on show: one of the explanation's methods (meta.methods; default the one it shows first, meta.method). */
  method: string;
  /** Index of the selected item (default: the answer item with the strongest visual signal, widget.py first_item). */
  selected: number;
  /** ECI scale lambda, 0..2: 1 is TAM, 0 switches ECI off. */
  eci_scale: number;
  /** ECI on or off (off = lambda 0 whatever eci_scale says). */
  eci: boolean;
  /** Rank Gaussian filter on or off. */
  filter: boolean;
  /** The heatmap's largest opacity over the image, 0..1 (default 0.5): each cell's alpha follows its value. */
  opacity: number;
  colormap: ColormapName;
  /** Show the text grouped into words (items[].word) instead of tokens. */
  group_words: boolean;
  /** Bilinear upsampling of the map (default true); false: one block per vision token. */
  smooth: boolean;
  /** Show the original image beside the overlay (default false). */
  show_original: boolean;
  /** The decoder layer whose maps are shown: one of the page's kept layers (meta.methods.tam.layers; default the last); -1 on a page of the last layer only. */
  layer: number;
}

export type WidgetModel = AnyModel<Model>;
