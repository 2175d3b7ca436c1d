import { afterAll, describe, expect, it } from "vitest";
import { decode } from "../src/codec";
import { TAM, TamMaps } from "../src/methods/tam";
import { dequantiseRow, omegaRow, relevanceRow } from "../src/methods/tam-rows";
import { type Fixture, fixtureNames, loadFixture, MISSING_FIXTURES, toU8 } from "./fixtures";

const files = fixtureNames();
const summary = new Map<string, string[]>(); // case -> "setting: max |diff| (share exactly equal)"
afterAll(() => {
  const lines = [...summary].map(([name, parts]) => `  ${name}: ${parts.join(", ")}`);
  if (lines.length) console.log(`u8 parity with Python, max |diff| (cells exactly equal):\n${lines.join("\n")}`);
});

/** The fixture's real wire bytes through the codec, as the widget decodes them: TAM's maps. */
function wireMaps(fx: Fixture): TamMaps {
  const shown = decode(Buffer.from(fx.wire.data, "base64"), fx.wire.meta).shown;
  expect([shown.name, shown.impl]).toEqual(["tam", TAM]);
  if (!(shown.maps instanceof TamMaps)) throw new Error("TAM decoded to something else");
  return shown.maps;
}

it("has the parity fixtures written by js/tests/make_fixtures.py", () => {
  if (files.length === 0) throw new Error(MISSING_FIXTURES);
});

describe.each(files)("parity with the Python core: %s", (file) => {
  const fx = loadFixture(file);

  it("decodes the real wire buffer to the fixture's arrays: A within half a step, omega and R exact where read", () => {
    const data = wireMaps(fx).data;
    const { T, n_v: nv } = fx;
    expect([data.T, data.nv, data.kernel]).toEqual([T, nv, fx.kernel]);
    const row = new Float32Array(nv);
    let worst = 0; // |A - dequantised| beyond half a step, in float32 ulps of the row's largest magnitude
    for (let v = 0; v < T; v++) {
      dequantiseRow(row, data.A, v);
      const { lo, step } = { lo: data.A.lo[v], step: data.A.step[v] };
      const ulp = 2 ** -23 * Math.max(Math.abs(lo), Math.abs(lo + 65535 * step), 1e-30);
      for (let i = 0; i < nv; i++) worst = Math.max(worst, (Math.abs(row[i] - (fx.A[v * nv + i] as number)) - step / 2) / ulp);
      expect([...omegaRow(data, v)]).toEqual(fx.omega.slice(v * T, v * T + v));
      expect(fx.omega.slice(v * T + v, (v + 1) * T).every((w) => w === 0)).toBe(true); // the triangle is all of omega
      expect([...relevanceRow(data, v)]).toEqual(fx.R.slice(v * T, v * T + fx.n_visible[v]));
    }
    expect(worst).toBeLessThanOrEqual(2); // lo + q * step rounded twice in float32
    expect([...data.scale]).toEqual(fx.scale.map((s) => (s === null ? NaN : s)));
    expect([...data.nVisible]).toEqual(fx.n_visible);
    expect(data.frames).toEqual(fx.frames);
  });

  describe.each(fx.expected)("$label", (exp) => {
    it("every item's u8 map within 1 and text relevance within 1/255 (the maps' quantised rows move the joint min-max)", () => {
      const maps = wireMaps(fx);
      const data = maps.data;
      const params = TAM.params({ eciScale: exp.eci_scale, eci: exp.eci, filter: exp.filter });
      const u8 = new Uint8Array(data.nv);
      let worst = 0;
      let textWorst = 0;
      let exact = 0;
      for (let v = 0; v < data.T; v++) {
        const item = maps.compute(v, params);
        toU8(item.image, u8);
        for (let i = 0; i < data.nv; i++) {
          const d = Math.abs(u8[i] - exp.u8[v * data.nv + i]);
          worst = Math.max(worst, d);
          if (d === 0) exact++;
        }
        for (let k = 0; k < data.T; k++) {
          const want = exp.text[v * data.T + k];
          if (k < item.nText) textWorst = Math.max(textWorst, Math.abs(item.text[k] - (want as number)));
          else expect(want).toBeNull();
        }
      }
      const parts = summary.get(fx.name) ?? [];
      summary.set(fx.name, [...parts, `${exp.label} ${worst} (${((100 * exact) / (data.T * data.nv)).toFixed(2)}%, text ${textWorst.toExponential(1)})`]);
      expect(textWorst, "max |text - python|").toBeLessThanOrEqual(1 / 255);
      expect(worst, `max |u8 - python| over ${data.T} items`).toBeLessThanOrEqual(1);
      expect(exact / (data.T * data.nv)).toBeGreaterThan(0.99);
    });
  });

  it("candidate maps: every class at every checked item within 1 of Python's class_maps", () => {
    const maps = wireMaps(fx);
    expect(maps.classes, "the wire holds the candidate arrays").not.toBeNull();
    const u8 = new Uint8Array(maps.data.nv);
    let worst = 0;
    for (const c of fx.class_maps) {
      const params = TAM.params({ eciScale: c.eci_scale, eci: c.eci, filter: c.filter });
      c.ids.forEach((id, m) => {
        const got = maps.classMap(c.item, id, params);
        if (!got) throw new Error(`no map for class ${id} at item ${c.item}`);
        toU8(got.image, u8);
        for (let i = 0; i < u8.length; i++) worst = Math.max(worst, Math.abs(u8[i] - c.u8[m * u8.length + i]));
      });
    }
    expect(fx.class_maps.length).toBeGreaterThan(0);
    expect(worst, `max |u8 - python| over ${fx.class_maps.length} item settings`).toBeLessThanOrEqual(1);
  });
});
