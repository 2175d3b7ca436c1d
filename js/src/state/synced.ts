// Synced state: the traits Python and the browser share (model.ts); the browser sets only the view traits (SyncedKey) and saves them back.

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
}

export function readSettings(model: WidgetModel): Settings {
  return { eciScale: Number(model.get("eci_scale")), eci: Boolean(model.get("eci")), filter: Boolean(model.get("filter")) };
}

/** A number from a trait (anything a page or Python put there) inside [lo, hi]; lo when not finite. */
export function clamp(x: number, lo: number, hi: number): number {
  return Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : lo;
}

/**
 * Sets view traits and saves them back to Python. Continuous gestures (hover, dragging a slider)
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
