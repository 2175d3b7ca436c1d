/**
 * The compare view: two unchanged Apps (one per explanation) side by side, each on a SideModel over
 * the one compare model, so a click in either selects the aligned row in both and λ, the toggles,
 * the layer and the colours are shared; rows that changed are marked in both token strips; below
 * them, the difference a − b where the grids match (difference.ts).
 */

import { App, type Snapshot } from "../app";
import type { WireMeta } from "../codec";
import { clamp } from "../state/synced";
import { h } from "../views/dom";
import { DifferenceView, subtract } from "./difference";
import type { CompareWidgetModel } from "./model";
import { Rows, type Side } from "./rows";
import { SideModel } from "./side";

/** What the page shows, as plain values (tests read it through the root's `tamCompare`). */
export interface CompareSnapshot {
  row: number;
  a: Snapshot | null;
  b: Snapshot | null;
  difference: number[] | null;
  note: string;
}

const SHARED_EVENTS = ["selected_row", "eci_scale", "eci", "filter", "layer", "colormap", "opacity", "difference"];
const SIDES: Side[] = [0, 1];

export class CompareApp {
  private readonly rows: Rows;
  private readonly sides: { el: HTMLElement; model: SideModel; app: App; meta: WireMeta }[];
  private readonly diff: DifferenceView | null;
  private readonly caption = h("div", { class: "tam-muted", role: "row-caption" });
  private readonly toggle = h("input", { role: "difference-toggle", attrs: { type: "checkbox" } });
  private readonly cleanups: (() => void)[] = [];
  private note = "";

  constructor(
    private readonly model: CompareWidgetModel,
    root: HTMLElement,
  ) {
    const meta = model.get("_compare");
    this.rows = new Rows(meta);
    this.sides = SIDES.map((s) => {
      const el = h("div", { class: "tam-widget", attrs: { "data-side": "ab"[s] } });
      const side = new SideModel(model, s, this.rows);
      const app = new App(side.asModel(), el);
      side.on("change:group_words", () => this.mark()); // the tokens were rebuilt
      return { el, model: side, app, meta: model.get(s === 0 ? "_meta_a" : "_meta_b") };
    });
    this.diff = meta.same_grids ? new DifferenceView(this.sides[0].meta, model.get("_images_a") ?? [], meta.labels) : null;
    this.build(root, meta.labels);
    for (const key of SHARED_EVENTS) this.listen(`change:${key}`, () => this.update());
    this.toggle.addEventListener("change", this.onToggle);
    this.mark();
    this.update();
  }

  private build(root: HTMLElement, labels: [string, string]): void {
    const column = (s: Side) => h("div", { class: "tam-compare-side", role: `side-${"ab"[s]}`, attrs: { style: "flex: 1 1 520px; min-width: 0" } }, [h("h4", { class: "tam-compare-label", text: labels[s] }), this.sides[s].el]);
    const sides = h("div", { class: "tam-compare-sides", attrs: { style: "display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start" } }, SIDES.map(column));
    const toggle = h("label", { class: "tam-toggle" }, [this.toggle, document.createTextNode(" difference a − b")]);
    const note = this.diff ? null : h("p", { class: "tam-muted", role: "difference-note", text: "No difference view: the two explanations' grids differ (other images or another processor)." });
    root.append(h("div", { class: "tam-compare-head" }, [this.caption, ...(this.diff ? [toggle] : [])]), sides, ...(this.diff ? [this.diff.el] : []), ...(note ? [note] : []));
  }

  private listen(event: string, fn: () => void): void {
    this.model.on(event, fn);
    this.cleanups.push(() => this.model.off(event, fn));
  }

  private get row(): number {
    const r = Number(this.model.get("selected_row"));
    return Number.isInteger(r) && r >= 0 && r < this.rows.length ? r : 0;
  }

  /** Outline the tokens of changed rows in both strips. */
  private mark(): void {
    for (const s of SIDES) {
      for (const node of this.sides[s].el.querySelectorAll<HTMLElement>('[data-role="token"]')) {
        const changed = this.rows.changed(s, Number(node.dataset.index));
        node.classList.toggle("is-changed", changed);
        node.style.outline = changed ? "1px dashed #c2410c" : "";
      }
    }
  }

  private update(): void {
    const row = this.row;
    const text = (s: Side) => this.sides[s].meta.items[this.rows.item(s, row)]?.text;
    const [ta, tb] = SIDES.map(text);
    this.caption.textContent = `row ${row}: ${JSON.stringify(ta ?? "—")} ↔ ${JSON.stringify(tb ?? "—")}${this.rows.meta.changed[row] ? " · changed" : ""}`;
    if (!this.diff) return;
    const on = this.model.get("difference") !== false;
    this.toggle.checked = on;
    this.diff.el.hidden = !on;
    const [a, b] = this.sides.map((s) => s.app.snapshot());
    const one = ta === undefined || tb === undefined;
    const diff = on && !one ? subtract(a.image, b.image) : null;
    this.note = one ? "This row has a token on one side only: nothing to subtract." : "";
    if (on) this.diff.show(diff, this.note, clamp(Number(this.model.get("opacity")), 0, 1));
  }

  private readonly onToggle = () => {
    this.model.set("difference", this.toggle.checked);
    this.model.save_changes();
  };

  snapshot(): CompareSnapshot {
    const [a, b] = this.sides.map((s) => s.app.snapshot());
    const values = this.diff?.values;
    return { row: this.row, a, b, difference: values ? Array.from(values) : null, note: this.note };
  }

  dispose(): void {
    for (const fn of this.cleanups) fn();
    this.toggle.removeEventListener("change", this.onToggle);
    for (const s of this.sides) s.app.dispose();
    this.diff?.dispose();
  }
}
