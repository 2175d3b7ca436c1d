// @vitest-environment jsdom
/**
 * Bad input never turns into a silent wrong result: non-finite numbers show as n/a (probabilities)
 * or as "map n/a" (an item's data), the browser never writes a bad trait value, whitespace and
 * end-of-turn tokens are visible, and the chosen token's probability is shown when it is not a top candidate.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Snapshot } from "../src/app";
import { type ChosenMeta, decode, wireNumber } from "../src/codec";
import { finiteItems, TamMaps } from "../src/methods/tam";
import { checkTrait, TraitWriter } from "../src/state/synced";
import { percent } from "../src/views/candidates";
import { displayText } from "../src/views/dom";
import widget from "../src/widget";
import { type Case, type CaseOptions, FakeModel, fakeModel, syntheticCase } from "./helpers";
import { installMockCanvas } from "./mock-canvas";

let cleanup: (() => void) | null = null;

function mountCase(c: Case, traits = {}): { model: FakeModel; el: HTMLElement } {
  const model = fakeModel(c, traits);
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: model.asModel(), el });
  return { model, el };
}

const role = (el: HTMLElement, name: string) => el.querySelector(`[data-role="${name}"]`) as HTMLElement;
const tokens = (el: HTMLElement) => [...el.querySelectorAll<HTMLElement>('[data-role="token"]')];
const snapshot = (el: HTMLElement) => (el.querySelector(".tam-widget") as HTMLElement & { tam: { snapshot(): Snapshot } }).tam.snapshot();

/** Overwrite entries of one of the case's float32 arrays in its buffer (A's rows: through A_lo, as the wire marks a non-finite row). */
function poke(c: Case, name: string, values: Record<number, number>): void {
  const spec = c.meta.methods.tam.arrays[name];
  const view = new DataView(c.data);
  for (const [i, v] of Object.entries(values)) view.setFloat32(spec.offset + 4 * Number(i), v, true);
}

function withChosen(opts: CaseOptions, chosen: ChosenMeta[]): Case {
  const c = syntheticCase(opts);
  c.meta.chosen = chosen;
  return c;
}

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  cleanup?.();
  cleanup = null;
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe("non-finite numbers", () => {
  it("reads the metadata's strings for NaN and the infinities back as numbers", () => {
    expect([wireNumber(0.25), wireNumber("Infinity"), wireNumber("-Infinity")]).toEqual([0.25, Infinity, -Infinity]);
    for (const bad of ["NaN", "nan", null, undefined, {}]) expect(Number.isNaN(wireNumber(bad))).toBe(true);
  });

  it("formats probabilities, n/a when not finite", () => {
    expect([percent(0.6), percent(0.003), percent(0.00001234), percent(0), percent(1)]).toEqual(["60.0%", "0.3%", "0.0012%", "0.0%", "100.0%"]);
    expect([percent(Number.NaN), percent(Infinity), percent(-Infinity)]).toEqual(["n/a", "n/a", "n/a"]);
  });

  it("shows NaN and infinite top-k probabilities as n/a, with an empty bar", () => {
    const c = syntheticCase({ nPrompt: 2, nAnswer: 3 });
    c.meta.top[0] = [
      { text: " t2", p: "NaN" },
      { text: "x", p: "Infinity" },
      { text: "y", p: 0.1 },
    ];
    const { el } = mountCase(c, { selected: 2 });
    const values = [...role(el, "candidates").querySelectorAll(".tam-candidate-p")].map((n) => n.textContent);
    expect(values).toEqual(["n/a", "n/a", "10.0%"]);
    const bars = [...role(el, "candidates").querySelectorAll<HTMLElement>(".tam-bar")].map((b) => b.style.width);
    expect(bars).toEqual(["0%", "0%", "10%"]);
  });

  it("marks an item whose data hold NaN or an infinity as n/a, and only the maps that use them", () => {
    const c = syntheticCase({ nPrompt: 2, nAnswer: 4, grids: [[3, 4]] });
    const nv = 12;
    const T = 6;
    poke(c, "A_lo", { 3: Number.NaN }); // item 3's raw map held a NaN
    poke(c, "R", { [2 + 2 + 2 + 3 + 4 + 1]: Infinity }); // item 5's relevance on item 1 (rows of n_visible 2, 2, 2, 3, 4, 5)
    expect(nv * T).toBe(72);
    poke(c, "scale", { 2: -Infinity });
    const maps = decode(c.data, c.meta).shown.maps as TamMaps;
    const ok = finiteItems(maps.data);
    // item 3: A bad; item 4: its ECI weighs item 3's map; item 5: R bad; item 2: scale infinite (ECI only)
    expect([...ok]).toEqual([3, 3, 1, 0, 1, 0]);
    const finite = (item: number, lambda: number) => maps.compute(item, { lambda, filter: true }).finite;
    expect([0, 1, 2, 3, 4, 5].map((v) => finite(v, 1))).toEqual([true, true, false, false, false, false]);
    expect([0, 1, 2, 3, 4, 5].map((v) => finite(v, 0))).toEqual([true, true, true, false, true, false]);
  });

  it("says so on the page, draws no heat and colours no text for such an item; the other items are unchanged", () => {
    const contexts = installMockCanvas();
    const c = syntheticCase({ nPrompt: 2, nAnswer: 3, grids: [[3, 4]] });
    poke(c, "A_lo", { 3: Infinity });
    const { el, model } = mountCase(c, { selected: 2 });
    const notice = role(el, "map-notice");
    expect(notice.hidden).toBe(true);
    expect(snapshot(el).finite).toBe(true);
    const heat = [...contexts.values()].find((ctx) => ctx.images.length > 0);
    const pixels = () => heat?.images.at(-1)?.data ?? new Uint8ClampedArray(0);
    expect(pixels().some((x) => x !== 0)).toBe(true);
    model.set("selected", 3);
    expect(snapshot(el).finite).toBe(false);
    expect(notice.hidden).toBe(false);
    expect(notice.textContent).toContain("Map n/a");
    expect(pixels().every((x) => x === 0)).toBe(true); // transparent: the image alone
    expect(tokens(el).some((t) => t.classList.contains("has-relevance"))).toBe(false);
    model.set("eci", false); // item 3's own map is still bad
    expect(snapshot(el).finite).toBe(false);
    model.set("selected", 4);
    model.set("eci", true); // item 4's ECI weighs item 3
    expect(snapshot(el).finite).toBe(false);
    model.set("eci", false);
    expect(snapshot(el).finite).toBe(true);
    expect(notice.hidden).toBe(true);
  });
});

describe("the browser never writes a bad trait value", () => {
  it("checks each view trait like the kernel does: clamps numbers, refuses the rest", () => {
    const n = 5;
    expect([checkTrait("selected", 4, n), checkTrait("selected", 5, n), checkTrait("selected", -1, n)]).toEqual([4, undefined, undefined]);
    expect([checkTrait("selected", 1.5, n), checkTrait("selected", "2", n), checkTrait("selected", true, n)]).toEqual([undefined, undefined, undefined]);
    expect([checkTrait("eci_scale", 7, n), checkTrait("eci_scale", -1, n), checkTrait("eci_scale", 0.3, n)]).toEqual([2, 0, 0.3]);
    expect([checkTrait("eci_scale", Number.NaN, n), checkTrait("eci_scale", Infinity, n), checkTrait("eci_scale", "1", n)]).toEqual([undefined, undefined, undefined]);
    expect([checkTrait("opacity", 1.5, n), checkTrait("opacity", Number.NaN, n)]).toEqual([1, undefined]);
    expect([checkTrait("colormap", "viridis", n), checkTrait("colormap", "hot", n)]).toEqual(["viridis", undefined]);
    for (const key of ["eci", "filter", "group_words"] as const) {
      expect([checkTrait(key, false, n), checkTrait(key, 1, n), checkTrait(key, "true", n)]).toEqual([false, undefined, undefined]);
    }
  });

  it("TraitWriter neither sets nor saves a refused value", () => {
    const model = fakeModel(syntheticCase({ nPrompt: 2, nAnswer: 3 }));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const writer = new TraitWriter(model.asModel(), 5);
    const set = vi.spyOn(model, "set");
    expect(writer.set("selected", 5)).toBe(false);
    expect(writer.set("eci_scale", Number.NaN)).toBe(false);
    expect(writer.set("colormap", "hot" as "jet")).toBe(false);
    expect(set).not.toHaveBeenCalled();
    expect(model.saves).toBe(0);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(writer.set("eci_scale", 9)).toBe(true);
    expect([model.get("eci_scale"), model.saves]).toEqual([2, 1]);
  });
});

describe("the reference's items", () => {
  it("shows whitespace-only tokens with visible marks, keeping the true text in the tooltip", () => {
    expect([displayText("\n"), displayText("\n\n"), displayText("  "), displayText("\t"), displayText("\r\n ")]).toEqual(["⏎", "⏎⏎", "··", "·", "⏎·"]);
    expect([displayText(" cat"), displayText("a\tb"), displayText("a\nb"), displayText("")]).toEqual([" cat", "a⇥b", "a⏎b", "∅"]);
    const c = syntheticCase({ nPrompt: 4, nAnswer: 2, texts: ["Hi", "\n", " ", "there", " A", "<|im_end|>"] });
    c.meta.items[1].whitespace = true;
    c.meta.items[2].whitespace = true;
    c.meta.items[5].special = true;
    const { el } = mountCase(c);
    const ts = tokens(el);
    expect(ts.map((t) => t.textContent)).toEqual(["Hi", "⏎", "·", "there", " A", "<|im_end|>"]);
    expect(ts[1].title).toBe('#1 "\\n" · whitespace');
    expect(ts[1].classList.contains("is-whitespace")).toBe(true);
    expect(c.meta.items[1].text).toBe("\n"); // the data keep the true text
  });

  it("sets an answer's end-of-turn token apart", () => {
    const c = syntheticCase({ nPrompt: 2, nAnswer: 3, texts: ["a", "b", " x", " y", "<|im_end|>"] });
    c.meta.items[4].special = true;
    const { el } = mountCase(c);
    const end = tokens(el)[4];
    expect(end.classList.contains("is-end-of-turn")).toBe(true);
    expect(end.title).toBe('#4 "<|im_end|>" · end of turn');
    expect(end.textContent).toBe("<|im_end|>");
    expect(tokens(el).filter((t) => t.classList.contains("is-special")).length).toBe(1);
  });

  it("adds the chosen token's probability when it is not among the top candidates", () => {
    const chosen: ChosenMeta[] = [
      { rank: 1, p: 0.3 },
      { rank: -1, p: 0.003 },
      { rank: -1, p: "NaN" },
      { rank: -1, p: null },
    ];
    const c = withChosen({ nPrompt: 2, nAnswer: 4 }, chosen);
    const { el, model } = mountCase(c, { selected: 2 });
    const rows = () => [...role(el, "candidates").querySelectorAll<HTMLElement>(".tam-candidate")];
    expect(rows().map((r) => r.classList.contains("is-chosen"))).toEqual([false, true, false]); // by rank, not by text
    expect(role(el, "chosen")).toBeNull();
    model.set("selected", 3);
    expect(role(el, "chosen").textContent).toBe("chosen:  t30.3%");
    expect(rows().length).toBe(4);
    model.set("selected", 4);
    expect(role(el, "chosen").textContent).toBe("chosen:  t4n/a");
    model.set("selected", 5);
    expect(role(el, "chosen").textContent).toContain("not among the top 3 (probability not recorded)");
  });

  it("without `chosen` (an older page) finds the chosen candidate by its text and adds no row", () => {
    const { el } = mountCase(syntheticCase({ nPrompt: 2, nAnswer: 2 }), { selected: 2 });
    const rows = [...role(el, "candidates").querySelectorAll(".tam-candidate")];
    expect(rows.map((r) => r.classList.contains("is-chosen"))).toEqual([true, false, false]);
    expect(role(el, "chosen")).toBeNull();
  });
});
