/**
 * The compare model of a what-if, seen through the single widget's model, so the unchanged CompareApp
 * shows the explanation (side a: _data, _meta, _images) beside the what-if (side b: _what_if*).
 * λ, the toggles, the layer and the colours are the widget's own synced traits (the single view
 * keeps them on the way back); the row and the difference toggle are browser-only state.
 */

import type { CompareModel, CompareWidgetModel } from "../compare/model";
import type { WidgetModel } from "../model";
import { payloadOf } from "./model";

type Callback = () => void;

const SIDES: Record<string, string> = { _data_a: "_data", _meta_a: "_meta", _images_a: "_images", _data_b: "_what_if_data", _images_b: "_what_if_images" };

export class WhatIfCompareModel {
  private readonly local: Record<string, unknown>;
  private readonly listeners = new Map<string, Set<Callback>>();

  constructor(private readonly model: WidgetModel) {
    const payload = payloadOf(model);
    const selected = Number(model.get("selected"));
    const rows = payload?.compare.rows ?? [];
    const row = rows.findIndex((r) => r[0] === selected);
    this.local = { selected_row: row >= 0 ? row : (payload?.row ?? 0), difference: true };
  }

  asModel(): CompareWidgetModel {
    return this as unknown as CompareWidgetModel;
  }

  get(key: string): unknown {
    if (key in this.local) return this.local[key];
    if (key === "_meta_b") return payloadOf(this.model)?.meta;
    if (key === "_compare") return payloadOf(this.model)?.compare;
    return this.model.get((SIDES[key] ?? key) as keyof CompareModel as never);
  }

  set(key: string, value: unknown): void {
    if (key in this.local) {
      if (this.local[key] === value) return;
      this.local[key] = value;
      for (const cb of this.listeners.get(`change:${key}`) ?? []) cb();
    } else if (!key.startsWith("_")) this.model.set(key as never, value as never);
  }

  on(event: string, cb: Callback): void {
    if (this.isLocal(event)) {
      if (!this.listeners.has(event)) this.listeners.set(event, new Set());
      this.listeners.get(event)?.add(cb);
    } else this.model.on(event, cb);
  }

  off(event: string, cb: Callback): void {
    if (this.isLocal(event)) this.listeners.get(event)?.delete(cb);
    else this.model.off(event, cb);
  }

  save_changes(): void {
    this.model.save_changes();
  }

  send(): void {}

  private isLocal(event: string): boolean {
    return event.startsWith("change:") && event.slice(7) in this.local;
  }
}
