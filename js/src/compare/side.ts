/**
 * One side's model: the single widget's Model (model.ts) seen through the compare model, so each side
 * is an unchanged App. `selected` reads and writes the shared row (rows.ts); λ, toggles, layer and
 * colours are the shared traits; `method`, word grouping, smoothing and the original beside stay this
 * side's own (browser-only).
 */

import type { WidgetModel } from "../model";
import type { CompareModel, CompareWidgetModel } from "./model";
import type { Rows, Side } from "./rows";

const SHARED = new Set(["eci_scale", "eci", "filter", "layer", "colormap", "opacity"]);
const SIDE_KEYS = new Set(["_data", "_meta", "_images"]);

type Callback = () => void;

export class SideModel {
  private readonly local: Record<string, unknown>;
  private readonly listeners = new Map<string, Set<Callback>>();

  constructor(
    private readonly compare: CompareWidgetModel,
    private readonly side: Side,
    private readonly rows: Rows,
  ) {
    const meta = compare.get(this.key("_meta") as "_meta_a");
    this.local = { method: meta?.method ?? "tam", group_words: false, smooth: true, show_original: false };
  }

  /** This side's model as the App expects it. */
  asModel(): WidgetModel {
    return this as unknown as WidgetModel;
  }

  get(key: string): unknown {
    if (key === "selected") return this.rows.shown(this.side, Number(this.compare.get("selected_row")));
    if (key in this.local) return this.local[key];
    return this.compare.get(this.key(key) as keyof CompareModel);
  }

  set(key: string, value: unknown): void {
    if (key === "selected") {
      const row = this.rows.row(this.side, Number(value));
      if (row >= 0) this.compare.set("selected_row", row);
    } else if (key in this.local) {
      if (this.local[key] === value) return;
      this.local[key] = value;
      for (const cb of this.listeners.get(`change:${key}`) ?? []) cb();
    } else if (SHARED.has(key)) {
      this.compare.set(key as keyof CompareModel, value as never);
    }
  }

  on(event: string, cb: Callback): void {
    const local = this.localEvent(event);
    if (local) {
      if (!this.listeners.has(event)) this.listeners.set(event, new Set());
      this.listeners.get(event)?.add(cb);
    } else this.compare.on(this.event(event), cb);
  }

  off(event: string, cb: Callback): void {
    if (this.localEvent(event)) this.listeners.get(event)?.delete(cb);
    else this.compare.off(this.event(event), cb);
  }

  save_changes(): void {
    this.compare.save_changes();
  }

  send(): void {}

  private localEvent(event: string): boolean {
    return event.startsWith("change:") && event.slice(7) in this.local;
  }

  /** The compare model's name for one of Model's traits. */
  private key(key: string): string {
    if (key === "selected") return "selected_row";
    return SIDE_KEYS.has(key) ? `${key}_${"ab"[this.side]}` : key;
  }

  private event(event: string): string {
    return event.startsWith("change:") ? `change:${this.key(event.slice(7))}` : event;
  }
}
