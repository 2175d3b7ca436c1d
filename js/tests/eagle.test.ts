// @vitest-environment jsdom
/**
 * EAGLE in the browser: its wire part decoded and checked, one map for the items it explained (a
 * flat one and a notice for the rest), the tooltip's R_t / π_t / Δ_t, the curves and their areas,
 * the reliance tint of the answer, and the method switch between it and TAM.
 */
import { describe, expect, it } from "vitest";
import { WireError } from "../src/arrays";
import { decode, type WireMeta } from "../src/codec";
import { EagleMaps, trapezoid } from "../src/methods/eagle";
import type { Snapshot } from "../src/state/shown";
import { checkTrait } from "../src/state/synced";
import { CurvesView } from "../src/views/curves";
import { relianceColour, relianceUnits, unitReliance } from "../src/views/reliance";
import { type Case, encodeArrays, fakeModel, syntheticCase } from "./helpers";
import { mountHooks, mountModel } from "./mount";

const N = 3; // regions
const ITEMS = [5, 6, 7]; // the explained tokens' items (nPrompt 4: answer items 4..9)
const AREA = [0.25, 0.5, 1];
const INS = [0.2, 0.9, 0.1, 0.6, 0.95, 0.1, 1.0, 0.97, 0.1]; // (N, T_e) row-major
const DEL = [0.5, 0.4, 0.1, 0.3, 0.2, 0.1, 0.05, 0.1, 0.1];
const RELIANCE = [0.8, 0.2, -0.01];
const PRIOR = [0.1, 0.7, 0.1];
const ORG = [0.9, 0.97, 0.1];

/** A synthetic TAM case with EAGLE's part appended to the buffer (eagle first unless told). */
function eagleCase(opts: { first?: string; drop?: string[]; items?: number[] } = {}): Case {
  const c = syntheticCase({ nPrompt: 4, nAnswer: 6 });
  const nv = c.meta.frames.reduce((n, f) => n + f.height * f.width, 0);
  const f32 = (x: number[], shape: number[]) => ({ values: Float32Array.from(x), shape });
  const parts = {
    grid: f32(Array.from({ length: nv }, (_, i) => (i % 7) / 6), [nv]),
    items: { values: Int32Array.from(opts.items ?? ITEMS), shape: [3] },
    insertion_tokens: f32(INS, [N, 3]),
    deletion_tokens: f32(DEL, [N, 3]),
    region_area: f32(AREA, [N]),
    word_reliance: f32(RELIANCE, [3]),
    prior: f32(PRIOR, [3]),
    lift: f32(ORG.map((p, t) => p - PRIOR[t]), [3]),
    org_score: f32(ORG, [3]),
    baseline_score: f32(PRIOR, [3]),
  };
  for (const k of opts.drop ?? []) delete (parts as Record<string, unknown>)[k];
  const extra = encodeArrays(parts, c.data.byteLength);
  const both = new Uint8Array(extra.data);
  both.set(new Uint8Array(c.data));
  const eagle = { arrays: extra.arrays, variant: "efficient", n_regions: N, n_tokens: 3, images_scored: 42 };
  const meta: WireMeta = { ...c.meta, method: opts.first ?? "eagle", methods: { eagle, tam: c.meta.methods.tam } };
  return { ...c, data: both.buffer, meta };
}

function eagleMaps(c: Case = eagleCase()): EagleMaps {
  const maps = decode(c.data, c.meta).methods.get("eagle")?.maps;
  if (!(maps instanceof EagleMaps)) throw new Error("not EAGLE's maps");
  return maps;
}

describe("EAGLE's wire part", () => {
  it("decodes the grid, the items and the curves, and knows which item each token is", () => {
    const maps = eagleMaps();
    expect(maps.data.N).toBe(3);
    expect(Array.from(maps.data.tokenOf)).toEqual([-1, -1, -1, -1, -1, 0, 1, 2, -1, -1]);
    expect(Array.from(maps.data.area)).toEqual(AREA);
    expect(maps.label()).toBe("EAGLE (efficient, 3 regions, 42 images)");
  });

  it("refuses a part without grid or items (encoded without an explanation), and shapes or items that do not fit", () => {
    const c = eagleCase();
    expect(() => decode(c.data, eagleCase({ drop: ["grid"] }).meta)).toThrow(/no grid or items: it was encoded without an explanation/);
    expect(() => decode(c.data, eagleCase({ drop: ["items"] }).meta)).toThrow(WireError);
    const bad = (edit: (m: WireMeta) => void) => {
      const meta = structuredClone(c.meta);
      edit(meta);
      return () => decode(c.data, meta);
    };
    expect(bad((m) => (m.methods.eagle.arrays.grid.shape = [47]))).toThrow(/grid has shape \[47\], expected \[48\]/);
    expect(bad((m) => (m.methods.eagle.n_regions = 4))).toThrow(/insertion_tokens has shape \[3,3\], expected \[4,3\]/);
    expect(bad((m) => (m.methods.eagle.n_tokens = 1.5))).toThrow(/n_tokens must be an integer/);
    expect(bad((m) => (m.methods.eagle.arrays.items.dtype = "float32"))).toThrow(/items is float32, expected int32/);
    const withItems = (items: number[]) => () => {
      const d = eagleCase({ items });
      return decode(d.data, d.meta);
    };
    expect(withItems([5, 10, 6])).toThrow(/items\[1\] = 10 is outside -1..9/);
    expect(withItems([5, 5, 6])).toThrow(/item 5 twice/);
    expect(withItems([5, -1, 6])).not.toThrow(); // a token that is no item of the page
  });
});

describe("EAGLE's maps, facts and curves", () => {
  it("gives every explained item the one grid, and an unexplained item a flat map with a notice", () => {
    const maps = eagleMaps();
    const grid = maps.data.grid;
    for (const item of ITEMS) expect(maps.compute(item)).toEqual({ image: grid, text: new Float32Array(0), nText: 0, finite: true });
    const other = maps.compute(2);
    expect(Array.from(other.image).every((v) => v === 0)).toBe(true);
    expect(other.notice).toBe("EAGLE explained 3 tokens (#5–#7) together, not this one: it has no EAGLE map.");
    expect(maps.caption()).toContain("one map for the 3 tokens it explained together");
  });

  it("says R_t, π_t, Δ_t and p(full) for an explained item, and that another was not explained", () => {
    const at = (item: number) => Object.fromEntries(eagleMaps().facts(item).map((f) => [f.label, f.value]));
    expect(at(5)).toEqual({ "Rₜ reliance on the image": "0.800", "πₜ prior (p, black image)": "0.100", "Δₜ lift p(full) − p(black)": "+0.800", "p(full image)": "0.900" });
    expect(at(6)["Δₜ lift p(full) − p(black)"]).toBe("+0.270");
    expect(at(7)["Rₜ reliance on the image"]).toBe("-0.010");
    expect(at(3)).toEqual({ EAGLE: "not explained" });
  });

  it("draws the insertion curve from (0, π_t) and the deletion curve from (1, p_full), with trapezoid areas", () => {
    const curves = eagleMaps().curves(5);
    if (!curves) throw new Error("item 5 was explained");
    const round = (x: readonly number[]) => x.map((v) => Math.round(v * 1e6) / 1e6);
    expect([round(curves.insertion.x), round(curves.insertion.y)]).toEqual([[0, 0.25, 0.5, 1], [0.1, 0.2, 0.6, 1]]);
    expect([round(curves.deletion.x), round(curves.deletion.y)]).toEqual([[1, 0.75, 0.5, 0], [0.9, 0.5, 0.3, 0.05]]);
    expect(curves.insertion.auc).toBeCloseTo(0.25 * 0.15 + 0.25 * 0.4 + 0.5 * 0.8, 6); // by hand: 0.5375
    expect(curves.deletion.auc).toBeCloseTo(0.25 * 0.7 + 0.25 * 0.4 + 0.5 * 0.175, 6); // 0.3625
    expect(round(curves.meanInsertion.y)).toEqual(round([0.3, 0.4, 0.55, 0.69]));
    expect(trapezoid([1, 0], [0, 1])).toBe(0.5); // positive whichever way x runs
    expect(eagleMaps().curves(2)).toBeNull();
  });

  it("tints by reliance min-max over the explained tokens: blue (prior) to red (image), alpha with the distance from the middle", () => {
    const units = relianceUnits(Float32Array.from([Number.NaN, 0.8, 0.2, -0.01, 0.4]));
    expect(Number.isNaN(units[0])).toBe(true);
    expect([units[1], units[3]]).toEqual([1, 0]);
    expect(relianceColour(1)).toBe("rgba(255, 0, 0, 0.4)");
    expect(relianceColour(0)).toBe("rgba(0, 0, 255, 0.4)");
    expect(relianceColour(0.5)).toBe("rgba(255, 0, 0, 0)");
    const signed = (u: number) => {
      const [, r, , , a] = /rgba\((\d+), (\d+), (\d+), ([\d.]+)\)/.exec(relianceColour(u)) ?? [];
      return Number(r) > 0 ? Number(a) : -Number(a);
    };
    const order = [0.8, 0.2, -0.01, 0.4].map((_, i) => i + 1).sort((a, b) => units[a] - units[b]);
    const tints = order.map((i) => signed(units[i]));
    expect([...tints].sort((a, b) => a - b)).toEqual(tints); // more reliance: never less red
    expect(Array.from(relianceUnits(Float32Array.from([0.3, 0.3])))).toEqual([0.5, 0.5]);
    expect(unitReliance([1, 2, 0], Float32Array.from([Number.NaN, 0.2, 0.6]))).toBeCloseTo(0.4, 6); // a word: its tokens' mean
    expect(unitReliance([0], Float32Array.from([Number.NaN]))).toBeNaN();
  });

  it("the curves panel draws the points as (x, 1 - y), says when a token was not explained and hides without curves", () => {
    const view = new CurvesView();
    const curves = eagleMaps().curves(5);
    view.update("EAGLE", 5, curves, " red");
    const pts = view.el.querySelector('[data-role="curve-insertion"]')?.getAttribute("points");
    expect(pts).toBe("0.0000,0.9000 0.2500,0.8000 0.5000,0.4000 1.0000,0.0000");
    expect(view.el.querySelector('[data-role="curve-deletion"]')?.getAttribute("points")?.split(" ")[0]).toBe("1.0000,0.1000");
    expect(view.el.querySelector('[data-role="curve-auc-insertion"]')?.textContent).toBe("0.538");
    expect(view.el.querySelector("h4")?.textContent).toBe('Faithfulness curves of " red"');
    view.update("EAGLE", 2, null, "x");
    expect(view.el.textContent).toContain("not explained by EAGLE");
    view.update("TAM", 5, undefined, "x");
    expect(view.el.hidden).toBe(true);
  });
});

describe("the page with EAGLE and TAM", () => {
  mountHooks();
  const mount = (c: Case, traits = {}) => mountModel(fakeModel(c, { selected: 5, ...traits }));
  const role = (el: ParentNode, name: string) => el.querySelector(`[data-role="${name}"]`) as HTMLElement;
  const snap = (el: HTMLElement) => (el.querySelector(".tam-widget") as HTMLElement & { tam: { snapshot(): Snapshot } }).tam.snapshot();
  const tinted = (el: HTMLElement) => [...el.querySelectorAll<HTMLElement>('[data-role="token"][data-reliance]')].map((t) => Number(t.dataset.index));

  it("opens on EAGLE's grid, tints the explained tokens only, and the switch redraws TAM's map and back", () => {
    const c = eagleCase();
    const { el, model } = mount(c);
    const grid = Array.from(eagleMaps(c).data.grid);
    expect(snap(el)).toMatchObject({ method: "eagle", shown: 5, image: grid, settings: {} });
    expect(tinted(el)).toEqual(ITEMS);
    expect(role(el, "reliance-legend").hidden).toBe(false);
    expect(role(el, "method").textContent).toBe("EAGLE (efficient, 3 regions, 42 images)");
    const choices = [...el.querySelectorAll<HTMLButtonElement>('[data-role="method-choice"]')];
    expect(choices.map((b) => [b.textContent, b.getAttribute("aria-pressed")])).toEqual([["EAGLE", "true"], ["TAM", "false"]]);
    choices[1].click();
    expect([model.get("method"), model.saves, snap(el).method]).toEqual(["tam", 1, "tam"]);
    expect(snap(el).image).not.toEqual(grid);
    expect(snap(el).settings).toEqual({ lambda: 1, filter: true });
    expect(tinted(el)).toEqual([]);
    expect([role(el, "curves").hidden, role(el, "reliance-legend").hidden]).toEqual([true, true]);
    choices[0].click();
    expect(snap(el)).toMatchObject({ method: "eagle", image: grid });
    el.querySelector('[data-role="token"][data-index="6"]')?.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    const labels = [...role(el, "tooltip").querySelectorAll("dt")].map((d) => d.textContent);
    expect(labels).toEqual(["token id", "probability", "Rₜ reliance on the image", "πₜ prior (p, black image)", "Δₜ lift p(full) − p(black)", "p(full image)"]);
  });

  it("a method the page lacks falls back to the wire's first, and the browser never writes one", () => {
    const c = eagleCase({ first: "tam" });
    const { el } = mount(c, { method: "gradcam" });
    expect(snap(el).method).toBe("tam");
    expect([checkTrait("method", "eagle", 10, ["eagle", "tam"]), checkTrait("method", "gradcam", 10, ["eagle", "tam"]), checkTrait("method", 1, 10, ["tam"])]).toEqual(["eagle", undefined, undefined]);
  });

  it("a page with TAM only has no method switch", () => {
    const { el } = mount(syntheticCase({ nPrompt: 4, nAnswer: 6 }));
    expect(role(el, "method-switch")).toBeNull();
    expect(role(el, "curves").hidden).toBe(true);
  });
});
