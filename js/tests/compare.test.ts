// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import type { CompareSnapshot } from "../src/compare/app";
import { Rows } from "../src/compare/rows";
import { subtract } from "../src/compare/difference";
import type { CompareMeta } from "../src/compare/model";
import { FakeModel } from "./helpers";
import { mountHooks, mountModel, oneWordMore, sideA, sideB } from "./mount";

// a: 3 prompt + 4 answer items; b: the same prompt, an answer with one word more at item 4 (b's 4 has no partner)
const META: CompareMeta = oneWordMore();

function mount(meta: CompareMeta = META): { model: FakeModel; el: HTMLElement } {
  const a = sideA();
  const b = sideB();
  const dv = (x: ArrayBuffer) => new DataView(x);
  const model = new FakeModel({
    _data_a: dv(a.data), _meta_a: a.meta, _images_a: a.images,
    _data_b: dv(b.data), _meta_b: b.meta, _images_b: b.images,
    _compare: meta, selected_row: 5, eci_scale: 1, eci: true, filter: true, layer: -1, colormap: "jet", opacity: 0.5, difference: true,
  });
  return mountModel(model);
}

const token = (el: HTMLElement, side: string, item: number) => el.querySelector<HTMLElement>(`[data-side="${side}"] [data-role="token"][data-index="${item}"]`) as HTMLElement;
const snap = (el: HTMLElement) => (el.querySelector(".tam-compare") as unknown as { tamCompare: { snapshot(): CompareSnapshot } }).tamCompare.snapshot();

mountHooks();

describe("rows", () => {
  it("maps items to rows and back; a side without a token shows its nearest earlier one", () => {
    const rows = new Rows(META);
    expect([rows.row(0, 4), rows.row(1, 4), rows.row(1, 5)]).toEqual([5, 4, 5]);
    expect([rows.item(0, 4), rows.shown(0, 4), rows.shown(1, 4)]).toEqual([-1, 3, 4]);
    expect([rows.changed(1, 4), rows.changed(0, 0)]).toEqual([true, false]);
  });

  it("subtracts maps of one length only", () => {
    expect(Array.from(subtract([1, 0.5], [0.25, 1]) ?? [])).toEqual([0.75, -0.5]);
    expect(subtract([1], [1, 2])).toBeNull();
  });
});

describe("compare widget", () => {
  it("a click in either view selects the aligned row in both", () => {
    const { model, el } = mount();
    expect(el.querySelectorAll('[data-role="heatmap"]').length).toBe(3); // a, b, a − b
    expect(token(el, "a", 4).classList.contains("is-selected") && token(el, "b", 5).classList.contains("is-selected")).toBe(true);
    token(el, "a", 5).click();
    expect(model.get("selected_row")).toBe(6);
    expect(token(el, "b", 6).getAttribute("aria-selected")).toBe("true");
    token(el, "b", 4).click(); // a word only b has: a keeps its nearest earlier token
    expect(model.get("selected_row")).toBe(4);
    expect(token(el, "a", 3).classList.contains("is-selected")).toBe(true);
    expect(snap(el).difference).toBeNull();
    expect(model.saves).toBeGreaterThan(0);
  });

  it("shares λ and toggles, draws a − b and marks changed rows in both strips", () => {
    const { model, el } = mount();
    const s = snap(el);
    expect(s.row).toBe(5);
    expect(s.difference).toEqual(Array.from(subtract(s.a?.image ?? [], s.b?.image ?? []) ?? []));
    model.set("eci_scale", 0.5);
    const t = snap(el);
    expect([t.a?.settings.lambda, t.b?.settings.lambda]).toEqual([0.5, 0.5]);
    expect(t.difference).not.toEqual(s.difference);
    expect(token(el, "b", 4).classList.contains("is-changed") && token(el, "a", 4).classList.contains("is-changed")).toBe(true);
    expect(token(el, "a", 0).classList.contains("is-changed")).toBe(false);
  });

  it("says why there is no difference when the grids differ", () => {
    const { el } = mount({ ...META, same_grids: false });
    expect(el.querySelectorAll('[data-role="heatmap"]').length).toBe(2);
    expect(el.querySelector('[data-role="difference-note"]')?.textContent).toContain("grids differ");
    expect(snap(el).difference).toBeNull();
  });
});
