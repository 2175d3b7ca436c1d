/**
 * The widget's traits. This interface mirrors the traits of TAMWidget in tam_widget/widget.py:
 * keep the two in sync (names, types, defaults).
 */

import type { AnyModel } from "@anywidget/types";
import type { WireMeta } from "./codec";
import type { ColormapName } from "./colormap";

export interface Model {
  /** The maps' inputs (wire.py's buffer); read-only in the browser, never saved back. */
  _data: DataView;
  /** wire.py's metadata; read-only in the browser. */
  _meta: WireMeta;
  /** One PNG per image or video frame (meta.images[i] says which); read-only in the browser. */
  _images: DataView[];
  /** Index of the selected item (default: the first answer item, n_prompt). */
  selected: number;
  /** ECI scale lambda, 0..2: 1 is TAM, 0 switches ECI off. */
  eci_scale: number;
  /** ECI on or off (off = lambda 0 whatever eci_scale says). */
  eci: boolean;
  /** Rank Gaussian filter on or off. */
  filter: boolean;
  /** Heatmap opacity over the image, 0..1 (default 0.5). */
  opacity: number;
  colormap: ColormapName;
  /** Show the text grouped into words (items[].word) instead of tokens. */
  group_words: boolean;
}

export type WidgetModel = AnyModel<Model>;

/** The small traits the browser may set and save back. */
export type SyncedKey = "selected" | "eci_scale" | "eci" | "filter" | "opacity" | "colormap" | "group_words";

/** Every trait a change of which alters what is drawn. */
export const DATA_KEYS = ["_data", "_meta", "_images"] as const;
export const SYNCED_KEYS: readonly SyncedKey[] = ["selected", "eci_scale", "eci", "filter", "opacity", "colormap", "group_words"];

/**
 * Sets small traits and saves them back to Python. Continuous gestures (hover, dragging a slider)
 * save at most every `delay` ms; a discrete action or the end of a gesture saves at once.
 */
export class TraitWriter {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private dirty = false;

  constructor(
    private readonly model: WidgetModel,
    private readonly delay = 120,
  ) {}

  set<K extends SyncedKey>(key: K, value: Model[K], { debounce = false } = {}): void {
    if (this.model.get(key) !== value) {
      this.model.set(key, value);
      this.dirty = true;
    }
    if (!debounce) this.flush();
    else if (this.dirty && this.timer === null) this.timer = setTimeout(() => this.flush(), this.delay);
  }

  /** Save now whatever is pending (nothing if nothing changed). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.dirty) return;
    this.dirty = false;
    this.model.save_changes();
  }

  dispose(): void {
    this.flush();
  }
}
