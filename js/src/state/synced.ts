// Synced state: the traits Python and the browser share (model.ts); the browser sets only the view traits (SyncedKey) and saves them back.

import { COLORMAP_NAMES } from "../colormap";
import type { Model, WidgetModel } from "../model";

/** The data traits: set by Python only; a new value rebuilds the whole view. */
export const DATA_KEYS = ["_data", "_meta", "_images"] as const;

/** The view traits the browser may set and save back (TAMWidget's view_traits() in Python). */
export type SyncedKey = Exclude<keyof Model, (typeof DATA_KEYS)[number]>;

/** The view traits a method's maps may depend on (each method reads those it uses). */
export interface Settings {
  eciScale: number;
  eci: boolean;
  filter: boolean;
  layer?: number; // the decoder layer (the `layer` trait); -1 or absent: the last
}

export function readSettings(model: WidgetModel): Settings {
  return { eciScale: Number(model.get("eci_scale")), eci: Boolean(model.get("eci")), filter: Boolean(model.get("filter")), layer: Number(model.get("layer") ?? -1) };
}

/** A number from a trait (anything a page or Python put there) inside [lo, hi]; lo when not finite. */
export function clamp(x: number, lo: number, hi: number): number {
  return Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo;
}

/**
 * A view trait's value as the browser may write it, or undefined when it must not be written: the
 * kernel checks every value again (tam_widget/display/widget.py) and refuses a bad one, but a bad
 * value is never sent in the first place. Numbers are clamped into range (a non-finite one is
 * refused); `selected` must be an item index; `method` one of the page's methods; `layer` one of its
 * kept layers; the colour map one the widget knows; toggles booleans.
 */
export function checkTrait<K extends SyncedKey>(key: K, value: unknown, nItems: number, methods: readonly string[] = [], layers: readonly number[] = []): Model[K] | undefined {
  const ok = (v: unknown) => v as Model[K];
  switch (key) {
    case "selected":
      return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < nItems ? ok(value) : undefined;
    case "eci_scale":
      return typeof value === "number" && Number.isFinite(value) ? ok(clamp(value, 0, 2)) : undefined;
    case "opacity":
      return typeof value === "number" && Number.isFinite(value) ? ok(clamp(value, 0, 1)) : undefined;
    case "colormap":
      return typeof value === "string" && (COLORMAP_NAMES as readonly string[]).includes(value) ? ok(value) : undefined;
    case "method":
      return typeof value === "string" && methods.includes(value) ? ok(value) : undefined;
    case "layer":
      return typeof value === "number" && layers.includes(value) ? ok(value) : undefined;
    case "eci":
    case "filter":
    case "group_words":
    case "smooth":
    case "show_original":
      return typeof value === "boolean" ? ok(value) : undefined;
    default:
      return undefined;
  }
}

/**
 * Sets view traits and saves them back to Python (each value checked first: checkTrait). Continuous gestures (hover, dragging a slider)
 * save at most every `delay` ms; a discrete action or the end of a gesture saves at once.
 */
export class TraitWriter {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private dirty = false;

  constructor(
    private readonly model: WidgetModel,
    private readonly nItems: number,
    private readonly methods: readonly string[] = [], // the page's methods, the values `method` may take
    private readonly delay = 120,
    private readonly layers: readonly number[] = [], // the page's kept decoder layers, the values `layer` may take
  ) {}

  /** Set and save `key`; returns false (and writes nothing) when the value is refused by checkTrait. */
  set<K extends SyncedKey>(key: K, raw: Model[K], { debounce = false } = {}): boolean {
    const value = checkTrait(key, raw, this.nItems, this.methods, this.layers);
    if (value === undefined) {
      const shown = typeof raw === "string" ? JSON.stringify(raw) : String(raw);
      console.warn(`tam-widget: not setting ${key} to ${shown}: out of range or of the wrong kind.`);
      return false;
    }
    if (this.model.get(key) !== value) {
      this.model.set(key, value);
      this.dirty = true;
    }
    if (!debounce) this.flush();
    else if (this.dirty && this.timer === null) this.timer = setTimeout(() => this.flush(), this.delay);
    return true;
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
