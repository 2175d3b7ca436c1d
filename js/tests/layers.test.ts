/**
 * The earlier decoder layers (explain(..., layers="all")): the page's compact wire (A as uint16 per
 * row, omega and R packed) decoded and every item's map recomputed at every kept layer, against
 * Python's exp.maps(layer=i) in float32 (js/tests/make_fixtures.py writes fixtures/layers/*.json).
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decode, type WireMeta } from "../src/codec";
import { TAM, TamMaps } from "../src/methods/tam";
import { FIXTURE_DIR, MISSING_FIXTURES } from "./fixtures";

interface LayerExpected {
  layer: number;
  label: string;
  eci_scale: number;
  eci: boolean;
  filter: boolean;
  image: (number | null)[];
}

interface ClassExpected {
  label: string;
  eci_scale: number;
  eci: boolean;
  filter: boolean;
  item: number;
  ids: number[];
  image: (number | null)[]; // (ids, n_v) row-major
}

interface LayerFixture {
  name: string;
  T: number;
  n_v: number;
  layers: number[];
  n_layers: number;
  frames: number;
  wire: { data: string; meta: WireMeta };
  expected: LayerExpected[];
  class_maps: ClassExpected[];
}

const DIR = join(FIXTURE_DIR, "layers");
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith(".json")) : [];
const worst = new Map<string, number>(); // setting -> max |browser - python| over every layer and item
afterAll(() => {
  const lines = [...worst].map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
  if (lines.length) console.log(`layer maps vs exp.maps(layer=i), max |diff| (float):\n${lines.join("\n")}`);
});

function tamMaps(fx: LayerFixture): TamMaps {
  const maps = decode(Buffer.from(fx.wire.data, "base64"), fx.wire.meta).methods.get("tam")?.maps;
  if (!(maps instanceof TamMaps)) throw new Error("TAM decoded to something else");
  return maps;
}

it("has the layer fixtures written by js/tests/make_fixtures.py", () => {
  if (files.length === 0) throw new Error(MISSING_FIXTURES);
});

describe.each(files)("layers: %s", (file) => {
  const fx = JSON.parse(readFileSync(join(DIR, file), "utf8")) as LayerFixture;

  it("reads the kept layers, every one compact", () => {
    const maps = tamMaps(fx);
    expect(maps.layers).toEqual({ kept: fx.layers, n: fx.n_layers });
    const arrays = fx.wire.meta.methods.tam.arrays;
    expect([arrays.layer_A.dtype, arrays.layer_A.shape]).toEqual(["uint16", [fx.layers.length - 1, fx.T, fx.n_v]]);
    expect([arrays.A.dtype, arrays.A.shape]).toEqual(["uint16", [fx.T, fx.n_v]]); // the last layer the same way
    expect([arrays.omega.shape, arrays.layer_omega.shape]).toEqual([[(fx.T * (fx.T - 1)) / 2], [fx.layers.length - 1, (fx.T * (fx.T - 1)) / 2]]);
  });

  it.each(fx.expected.map((e) => [e.layer, e.label, e] as const))("layer %i, %s: every item within 1/255 of Python", (_l, _s, e) => {
    const maps = tamMaps(fx);
    const params = TAM.params({ eciScale: e.eci_scale, eci: e.eci, filter: e.filter, layer: e.layer });
    expect(params.layer).toBe(e.layer);
    let max = 0;
    for (let v = 0; v < fx.T; v++) {
      const image = maps.compute(v, params).image;
      for (let i = 0; i < fx.n_v; i++) max = Math.max(max, Math.abs(image[i] - (e.image[v * fx.n_v + i] ?? NaN)));
    }
    const key = `${fx.name} ${e.label}`;
    worst.set(key, Math.max(worst.get(key) ?? 0, max));
    expect(max, `max |browser - python| at layer ${e.layer}`).toBeLessThanOrEqual(1 / 255);
  });

  it("the last layer's class maps: every class at every checked item and setting within 1/255 of Python", () => {
    const maps = tamMaps(fx);
    let max = 0;
    for (const c of fx.class_maps) {
      const params = TAM.params({ eciScale: c.eci_scale, eci: c.eci, filter: c.filter });
      c.ids.forEach((id, m) => {
        const got = maps.classMap(c.item, id, params);
        if (!got) throw new Error(`no map for class ${id} at item ${c.item}`);
        for (let i = 0; i < fx.n_v; i++) max = Math.max(max, Math.abs(got.image[i] - (c.image[m * fx.n_v + i] ?? NaN)));
      });
    }
    const key = `${fx.name} class maps`;
    worst.set(key, Math.max(worst.get(key) ?? 0, max));
    expect(fx.class_maps.length).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(1 / 255);
  });

  it("different layers give different maps, and candidates only at the last", () => {
    const maps = tamMaps(fx);
    const at = (layer: number) => Array.from(maps.compute(fx.T - 2, { lambda: 1, filter: true, layer }).image);
    expect(at(fx.layers[0])).not.toEqual(at(fx.layers[fx.layers.length - 1]));
    expect(maps.classMap(fx.T - 2, 1, { lambda: 1, filter: true, layer: fx.layers[0] })).toBeNull();
  });

  it("layer peaks: one share per kept layer, the strongest 1", () => {
    const peaks = tamMaps(fx).layerPeaks(fx.T - 2);
    expect(peaks.length).toBe(fx.layers.length);
    expect(Math.max(...peaks)).toBeCloseTo(1, 6);
    expect(Math.min(...peaks)).toBeGreaterThanOrEqual(0);
  });
});
