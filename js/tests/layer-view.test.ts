// @vitest-environment jsdom
/**
 * The layer slider and the "layer × peak" strip in the rendered widget (fixtures/layers, written by
 * js/tests/make_fixtures.py): shown only with several layers, labelled "layer i / n", the slider and
 * the strip's cells write the `layer` trait, and the map on show is that layer's.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import type { Snapshot } from "../src/app";
import { decode, type WireMeta } from "../src/codec";
import { checkTrait } from "../src/state/synced";
import widget from "../src/widget";
import { FIXTURE_DIR, MISSING_FIXTURES } from "./fixtures";
import { FakeModel, fakeModel, syntheticCase } from "./helpers";
import { installMockCanvas } from "./mock-canvas";

const DIR = join(FIXTURE_DIR, "layers");
const FILE = join(DIR, "toy_qwen2_vl_4_layers.json");

let cleanup: (() => void) | null = null;
beforeEach(() => void installMockCanvas());
afterEach(() => {
  cleanup?.();
  cleanup = null;
  vi.restoreAllMocks();
  document.body.replaceChildren();
});

function mountLayered(): { model: FakeModel; el: HTMLElement; meta: WireMeta; bytes: Buffer } {
  if (!existsSync(DIR) || !readdirSync(DIR).length) throw new Error(MISSING_FIXTURES);
  const fx = JSON.parse(readFileSync(FILE, "utf8")) as { wire: { data: string; meta: WireMeta } };
  const bytes = Buffer.from(fx.wire.data, "base64");
  const png = new DataView(new Uint8Array([137, 80, 78, 71]).buffer);
  const images = fx.wire.meta.images.flatMap((m) => Array.from({ length: m.frames }, () => png));
  const c = { data: new Uint8Array(bytes).buffer, meta: fx.wire.meta, images };
  const model = fakeModel(c, { layer: 3, selected: fx.wire.meta.n_prompt + 2 });
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: model.asModel(), el });
  return { model, el, meta: fx.wire.meta, bytes };
}

const q = <T extends Element = HTMLElement>(el: HTMLElement, role: string) => el.querySelector(`[data-role="${role}"]`) as T;
const snap = (el: HTMLElement) => (el.querySelector(".tam-widget") as unknown as { tam: { snapshot(): Snapshot } }).tam.snapshot();

it("opens on the last layer, labelled, one strip cell per kept layer", () => {
  const { el } = mountLayered();
  expect(q(el, "layers").hidden).toBe(false);
  expect(q(el, "layer-value").textContent).toBe("layer 3 / 4");
  const cells = [...el.querySelectorAll<HTMLElement>('[data-role="layer-cell"]')];
  expect(cells.map((c) => c.dataset.layer)).toEqual(["0", "1", "2", "3"]);
  expect(cells.map((c) => c.classList.contains("is-current"))).toEqual([false, false, false, true]);
  expect(q(el, "legend-caption").textContent).toContain("layer 3 / 4");
});

it("the slider and the strip set the layer, and the map on show is that layer's", () => {
  const { model, el, meta, bytes } = mountLayered();
  const tam = decode(bytes, meta).methods.get("tam")?.maps;
  const item = meta.n_prompt + 2;
  const slider = q<HTMLInputElement>(el, "layer");
  slider.value = "0";
  slider.dispatchEvent(new Event("input", { bubbles: true }));
  expect(model.get("layer")).toBe(0);
  expect(q(el, "layer-value").textContent).toBe("layer 0 / 4");
  expect(snap(el).settings).toEqual({ lambda: 1, filter: true, layer: 0 });
  expect(snap(el).image).toEqual(Array.from(tam?.compute(item, { lambda: 1, filter: true, layer: 0 }).image ?? []));
  expect(snap(el).image).not.toEqual(Array.from(tam?.compute(item, { lambda: 1, filter: true, layer: 3 }).image ?? []));
  q(el, "layers").querySelector<HTMLElement>('[data-layer="2"]')?.click();
  expect(model.get("layer")).toBe(2);
  expect(el.querySelector('[data-role="layer-cell"].is-current')?.getAttribute("data-layer")).toBe("2");
  expect(snap(el).image).toEqual(Array.from(tam?.compute(item, { lambda: 1, filter: true, layer: 2 }).image ?? []));
});

it("the browser writes only a kept layer", () => {
  expect(checkTrait("layer", 2, 5, [], [0, 1, 2, 3])).toBe(2);
  expect(checkTrait("layer", 7, 5, [], [0, 1, 2, 3])).toBeUndefined();
  expect(checkTrait("layer", 1.5, 5, [], [0, 1, 2, 3])).toBeUndefined();
  expect(checkTrait("layer", 0, 5, [], [])).toBeUndefined();
});

it("a page of the last layer only has no layer slider", () => {
  const c = syntheticCase();
  const model = fakeModel(c);
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: model.asModel(), el });
  expect(q(el, "layers").hidden).toBe(true);
  expect(snap(el).settings).toEqual({ lambda: 1, filter: true });
});
