import { describe, expect, it } from "vitest";
import { decode } from "../src/codec";
import { mapSettings, methodLabel, TamMaps } from "../src/methods/tam";
import { computeItem, Workspace } from "../src/methods/tam-math";
import { defaultItem, MapState, validItem } from "../src/state/derived";
import { LocalState } from "../src/state/local";
import { clamp } from "../src/state/synced";
import { syntheticCase } from "./helpers";

const TAM = { eciScale: 1, eci: true, filter: true };

describe("state", () => {
  it("defaults to the first answer item, and to item 0 without an answer", () => {
    const c = syntheticCase({ nPrompt: 3, nAnswer: 2 });
    expect(defaultItem(c.meta)).toBe(3);
    expect(defaultItem({ ...c.meta, n_answer: 0 })).toBe(0);
    expect(validItem(4, c.meta)).toBe(4);
    for (const bad of [-1, 5, 1.5, null, "2"]) expect(validItem(bad, c.meta)).toBe(3);
  });

  it("turns the traits into lambda: ECI off or scale 0 is lambda 0, the scale is clamped to 0..2", () => {
    expect(mapSettings(TAM)).toEqual({ lambda: 1, filter: true });
    expect(mapSettings({ ...TAM, eci: false })).toEqual({ lambda: 0, filter: true });
    expect(mapSettings({ ...TAM, eciScale: 7 }).lambda).toBe(2);
    expect(mapSettings({ ...TAM, eciScale: Number.NaN }).lambda).toBe(0);
    expect([clamp(-1, 0, 1), clamp(0.5, 0, 1), clamp(Infinity, 0, 1)]).toEqual([0, 0.5, 0]);
    expect(methodLabel(TAM)).toBe("TAM (ECI + filter)");
    expect(methodLabel({ ...TAM, eci: false })).toBe("CAM + rank Gaussian filter (no ECI)");
    expect(methodLabel({ ...TAM, eci: false, filter: false })).toBe("CAM");
    expect(methodLabel({ ...TAM, eciScale: 0.5, filter: false })).toBe("ECI ×0.50, no filter");
  });

  it("computes the shown item on demand and only when the item or a map setting changed", () => {
    const c = syntheticCase();
    const decoded = decode(c.data, c.meta);
    const state = new MapState(decoded.shown);
    const a = state.map(5, TAM);
    expect(state.computeCount).toBe(1);
    expect(state.map(5, { ...TAM })).toBe(a);
    expect(state.map(5, { ...TAM, eci: false, eciScale: 0.3 })).not.toBe(a);
    expect(state.map(5, { ...TAM, eci: false, eciScale: 1.7 }).params.lambda).toBe(0);
    expect(state.computeCount).toBe(2); // ECI off: the scale no longer matters
    const b = state.map(6, TAM);
    expect(state.computeCount).toBe(3);
    const maps = decoded.shown.maps;
    if (!(maps instanceof TamMaps)) throw new Error("not TAM's maps");
    const direct = computeItem(maps.data, 6, { lambda: 1, filter: true }, new Workspace(maps.data.nv, maps.data.T, 3));
    expect(b.image).toEqual(direct.image);
    expect(b.nText).toBe(6);
    expect(b.text.length).toBe(6);
  });

  it("keeps browser-only hover and frames apart, and tells its subscribers", () => {
    const local = new LocalState(2);
    let calls = 0;
    const stop = local.subscribe(() => calls++);
    local.setHover(3);
    local.setHover(3);
    local.setFrame(1, 2);
    expect([local.hover, local.frames, calls]).toEqual([3, [0, 2], 2]);
    stop();
    local.setHover(null);
    expect(calls).toBe(2);
  });
});
