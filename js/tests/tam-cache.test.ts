import { afterEach, describe, expect, it, vi } from "vitest";
import { decode } from "../src/codec";
import { makeShared, TAM, TamMaps } from "../src/methods/tam";
import { browserIdle, type IdleHost, MapCache, nearestFirst } from "../src/methods/tam-cache";
import { interferenceInto, itemInterference, type TamData } from "../src/methods/tam-math";
import { accumulateRow, omegaRow } from "../src/methods/tam-rows";
import { fixtureNames, loadFixture } from "./fixtures";
import { denseTamData, random } from "./helpers";

/** T items over n_v cells, random maps and a dense lower-triangular omega (some weights 0). */
function randomData(T: number, nv: number, seed = 3): TamData {
  const rnd = random(seed);
  const A = Float32Array.from({ length: T * nv }, () => 10 * rnd() ** 3 - 1);
  const omega = new Float32Array(T * T);
  for (let v = 0; v < T; v++) for (let k = 0; k < v; k++) omega[v * T + k] = rnd() < 0.2 ? 0 : rnd() / v;
  const R = Float32Array.from({ length: T * T }, () => rnd());
  const nVisible = Int32Array.from({ length: T }, (_, v) => v);
  const scale = Float32Array.from({ length: T }, (_, v) => (v === 0 ? NaN : rnd()));
  return denseTamData(A, omega, scale, R, nVisible, [{ offset: 0, height: 4, width: nv / 4 }]);
}

/** Idle time by hand: run() gives each pending request one slice that has already ended (one step of work each). */
function manualIdle(): IdleHost & { pending: Map<number, (until: number) => void>; run(): number } {
  const pending = new Map<number, (until: number) => void>();
  let next = 1;
  return {
    pending,
    request: (fn) => (pending.set(next, fn), next++),
    cancel: (h) => pending.delete(h),
    run() {
      let slices = 0;
      while (pending.size > 0) {
        const [h, fn] = pending.entries().next().value as [number, (until: number) => void];
        pending.delete(h);
        fn(-Infinity);
        slices++;
      }
      return slices;
    },
  };
}

const ECI = { lambda: 1, filter: true };

describe("the map cache", () => {
  it("keeps at most its budget, dropping the least recently used first", () => {
    const cache = new MapCache(3 * 40);
    for (const k of [0, 1, 2]) cache.put(k, new Float32Array(10).fill(k));
    cache.get(0); // 1 is now the least recently used
    cache.put(3, new Float32Array(10));
    expect([cache.has(0), cache.has(1), cache.has(2), cache.has(3), cache.bytes]).toEqual([true, false, true, true, 120]);
    cache.put(4, new Float32Array(20)); // two go
    expect([cache.has(0), cache.has(2), cache.has(3), cache.has(4), cache.bytes]).toEqual([false, false, true, true, 120]);
    cache.put(5, new Float32Array(31)); // larger than the budget: not kept, nothing dropped
    expect([cache.has(5), cache.size, cache.bytes]).toEqual([false, 2, 120]);
    cache.put(3, new Float32Array(5)); // replacing a key counts its new size only
    expect(cache.bytes).toBe(100);
  });
});

describe("E_v, cached and precomputed", () => {
  const data = randomData(80, 24);

  it("sums the same bits in slices as in one call, within float rounding of a row at a time", () => {
    for (const v of [0, 1, 9, 17, 40, 79]) {
      const [directAcc, slicedAcc] = [new Float64Array(data.nv), new Float64Array(data.nv)];
      const direct = interferenceInto(new Float32Array(data.nv), data, v, directAcc);
      const sum = itemInterference(data, v, slicedAcc);
      let slices = 1;
      while (!sum.step(-Infinity)) slices++; // the shortest slices there are
      expect(sum.finish(new Float32Array(data.nv))).toEqual(direct);
      expect(slicedAcc).toEqual(directAcc); // the float64 sums too: rows grouped alike
      if (v === 79) expect(slices).toBeGreaterThan(1);
      const acc = new Float64Array(data.nv); // today's way: one row at a time
      const w = omegaRow(data, v);
      let base = 0;
      for (let k = 0; k < v; k++) if (w[k] !== 0) base += accumulateRow(acc, data.A, k, w[k]);
      direct.forEach((e, i) => expect(e).toBeCloseTo(acc[i] + base, 5));
    }
  });

  it("a map from a cached E equals a freshly computed one bit for bit, and a second visit sums nothing", () => {
    const cached = new TamMaps(data);
    const fresh = new TamMaps(data, null, null, makeShared(0)); // no room: every map sums its E
    for (const v of [5, 30, 5, 30]) expect(cached.compute(v, ECI).image).toEqual(fresh.compute(v, ECI).image);
    expect([cached.shared.sums.direct, fresh.shared.sums.direct]).toEqual([2, 4]);
    expect(cached.interference(30)).toEqual(interferenceInto(new Float32Array(data.nv), data, 30));
    cached.compute(30, { lambda: 0.5, filter: false }); // lambda and the filter reuse it
    expect(cached.shared.sums.direct).toBe(2);
  });

  it("precomputes every item in idle slices, nearest the shown one first, after which a switch sums nothing", () => {
    const idle = manualIdle();
    const maps = new TamMaps(data, null, null, makeShared(undefined, idle));
    expect(idle.pending.size).toBe(0); // nothing before the first map
    maps.compute(20, ECI);
    expect(idle.pending.size).toBe(1);
    expect(idle.run()).toBeGreaterThan(data.T); // a slice a step: long sums span several
    expect([maps.shared.cache.size, maps.shared.sums.idle, maps.shared.sums.direct]).toEqual([data.T, data.T - 1, 1]);
    for (let v = 0; v < data.T; v++) maps.compute(v, ECI);
    expect(maps.shared.sums.direct).toBe(1);
    expect([...nearestFirst(2, 6)]).toEqual([2, 3, 1, 4, 0, 5]);
  });

  it("stops when the budget is full, evicting nothing", () => {
    const idle = manualIdle();
    const maps = new TamMaps(data, null, null, makeShared(5 * 4 * data.nv, idle));
    maps.compute(20, ECI);
    idle.run();
    expect([maps.shared.cache.size, maps.shared.cache.bytes, idle.pending.size]).toEqual([5, 5 * 4 * data.nv, 0]);
    for (const v of [20, 21, 19, 22, 18]) expect(maps.shared.cache.has(v)).toBe(true);
  });

  describe("with timers", () => {
    afterEach(() => vi.useRealTimers());

    it("fills the cache from setTimeout slices where there is no requestIdleCallback, and stops on dispose", () => {
      vi.useFakeTimers();
      const maps = new TamMaps(data, null, null, makeShared(undefined, browserIdle()));
      maps.compute(10, ECI);
      vi.runAllTimers();
      expect(maps.shared.cache.size).toBe(data.T);

      const other = new TamMaps(data, null, null, makeShared(undefined, browserIdle()));
      other.compute(10, ECI);
      expect(vi.getTimerCount()).toBe(1);
      other.dispose();
      expect(vi.getTimerCount()).toBe(0);
      vi.runAllTimers();
      other.compute(11, ECI); // a disposed page schedules nothing more
      expect([vi.getTimerCount(), other.shared.cache.size, other.shared.sums.idle]).toEqual([0, 2, 0]);
    });
  });
});

describe("class maps", () => {
  const file = fixtureNames().find((f) => loadFixture(f).class_maps.length > 0);

  it.runIf(file)("from a cached interference equal the fresh ones bit for bit", () => {
    const fx = loadFixture(file as string);
    const wire = () => decode(Buffer.from(fx.wire.data, "base64"), fx.wire.meta).shown.maps as TamMaps;
    const cached = wire();
    const fresh = new TamMaps(cached.data, cached.classes, null, makeShared(0));
    for (const c of fx.class_maps.slice(0, 2)) {
      const params = TAM.params({ eciScale: c.eci_scale, eci: c.eci, filter: c.filter });
      for (const id of c.ids.slice(0, 3)) {
        const first = Float32Array.from(cached.classMap(c.item, id, params)?.image ?? []);
        const size = cached.shared.cache.size;
        const again = Float32Array.from(cached.classMap(c.item, id, params)?.image ?? []);
        expect(cached.shared.cache.size).toBe(size); // the second visit finds it
        expect(again).toEqual(first);
        expect(first).toEqual(Float32Array.from(fresh.classMap(c.item, id, params)?.image ?? []));
      }
    }
    expect(cached.shared.cache.bytes).toBeGreaterThan(0);
  });
});
