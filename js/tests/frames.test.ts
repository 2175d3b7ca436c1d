// @vitest-environment jsdom
// A video's map is filtered a frame at a time, as the frames are read: a switch filters the frame the
// panel shows, and anything reading the whole map (a snapshot, the flat test when the shown frame has
// no spread) gets every frame, the same values as filtering them all at once.
import { afterEach, describe, expect, it, vi } from "vitest";
import { decode } from "../src/codec";
import { TamMaps } from "../src/methods/tam";
import { FilteredFrames, FilterScratch, filterFrames } from "../src/methods/tam-filter";
import { computeItem, correctInto, normaliseInto, Workspace } from "../src/methods/tam-math";
import { MapState } from "../src/state/derived";
import { ShownMaps } from "../src/state/shown";
import widget from "../src/widget";
import { fakeModel, syntheticCase } from "./helpers";
import { installMockCanvas, type MockContext } from "./mock-canvas";

const VIDEO = { grids: [[3, 4, 5]] }; // one view: three frames of 4 x 5 cells
const SETTINGS = { eciScale: 1, eci: true, filter: true, layer: -1 };

function tam(c = syntheticCase(VIDEO)): TamMaps {
  const maps = decode(c.data, c.meta).shown.maps;
  if (!(maps instanceof TamMaps)) throw new Error("not TAM");
  return maps;
}

/** Item's map filtered every frame at once, the way the page did before frames were filtered as read. */
function eager(maps: TamMaps, item: number): Float32Array {
  const ws = new Workspace(maps.data.nv, maps.data.T, maps.data.kernel);
  correctInto(ws.corrected, maps.data, item, 1, maps.interference(item));
  normaliseInto(ws.corrected, ws.text, maps.data, item);
  filterFrames(ws.corrected, ws.filtered, maps.data.frames, ws.filter);
  return ws.filtered.slice();
}

describe("a map filtered frame by frame", () => {
  it("filters only the frame read, then all on reading the image: the values of filtering all at once", () => {
    const maps = tam();
    const { data } = maps;
    const ws = new Workspace(data.nv, data.T, data.kernel);
    ws.filtered.fill(NaN); // cells no frame was filtered into stay NaN
    const got = computeItem(data, 5, { lambda: 1, filter: true }, ws, maps.interference(5));
    const want = eager(maps, 5);
    const frame1 = got.frame?.(1) as Float32Array;
    expect(frame1).toBe(ws.filtered);
    expect([...frame1.subarray(20, 40)]).toEqual([...want.subarray(20, 40)]);
    expect(frame1.subarray(0, 20).every(Number.isNaN) && frame1.subarray(40).every(Number.isNaN)).toBe(true);
    expect([...got.image]).toEqual([...want]);
  });

  it("starts over for the next map, and takes a frame index it does not have as nothing to do", () => {
    const scratch = new FilterScratch(3);
    const frames = new FilteredFrames(new Float32Array(8), scratch);
    const layout = [{ offset: 0, height: 2, width: 2 }, { offset: 4, height: 2, width: 2 }];
    frames.reset(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), layout);
    frames.all();
    const first = frames.out.slice();
    frames.reset(new Float32Array(8), layout); // all zeros: filters to zeros, once read
    expect([...frames.frame(7)]).toEqual([...first]);
    expect([...frames.frame(0).subarray(0, 4), ...frames.out.subarray(4)]).toEqual([0, 0, 0, 0, ...first.subarray(4)]);
    expect([...frames.all()]).toEqual(new Array(8).fill(0));
  });
});

describe("the shown map", () => {
  it("reads only the frames on show when they spread, and the whole map when they do not", () => {
    const c = syntheticCase(VIDEO);
    const shown = new ShownMaps(new MapState(decode(c.data, c.meta).shown), c.meta, 60);
    const frame = vi.spyOn(FilteredFrames.prototype, "frame");
    const map = shown.resolve(5, SETTINGS, null, [2]);
    expect(map.flat).toBe(false);
    expect(new Set(frame.mock.calls.map(([f]) => f))).toEqual(new Set([2]));
    expect([...map.image]).toEqual([...eager(tam(c), 5)]); // the whole map, once read
    frame.mockRestore();
  });

  it("calls a map flat only from all its frames", () => {
    const c = syntheticCase(VIDEO);
    const state = new MapState(decode(c.data, c.meta).shown);
    const shown = new ShownMaps(state, c.meta, 60);
    const real = state.map.bind(state);
    vi.spyOn(state, "map").mockImplementation((item, settings) => {
      const m = real(item, settings);
      const image = m.image; // frame 0 flat (all 0.5), the others as computed
      image.fill(0.5, 0, 20);
      return { ...m, image, frame: () => image };
    });
    expect(shown.resolve(5, SETTINGS, null, [0]).flat).toBe(false);
  });
});

describe("the widget on a video", () => {
  let cleanup: (() => void) | null = null;
  afterEach(() => {
    cleanup?.();
    document.body.replaceChildren();
    vi.restoreAllMocks();
  });

  /** The heat layer's last pixels after selecting item 6 and moving to frame 2, lazily filtered or not. */
  function drawn(lazy: boolean): { pixels: number[]; frames: Set<number> } {
    const contexts = installMockCanvas();
    const frame = vi.spyOn(FilteredFrames.prototype, "frame");
    if (!lazy) {
      const compute = TamMaps.prototype.compute;
      vi.spyOn(TamMaps.prototype, "compute").mockImplementation(function (this: TamMaps, item, params) {
        const m = compute.call(this, item, params);
        return { image: m.image, text: m.text, nText: m.nText, finite: m.finite }; // every frame, no frame()
      });
    }
    const c = syntheticCase(VIDEO);
    const model = fakeModel(c);
    const el = document.createElement("div");
    document.body.appendChild(el);
    cleanup = widget.render({ model: model.asModel(), el });
    model.set("selected", 6);
    const slider = el.querySelector<HTMLInputElement>('[data-role="frame"]') as HTMLInputElement;
    slider.value = "2";
    slider.dispatchEvent(new Event("input"));
    const heat = [...contexts.values()].filter((ctx: MockContext) => ctx.images.length > 0);
    const last = heat[0].images[heat[0].images.length - 1];
    const frames = new Set(frame.mock.calls.map(([f]) => f));
    cleanup();
    cleanup = null;
    vi.restoreAllMocks();
    return { pixels: [...last.data], frames };
  }

  it("draws the shown frame from its own filter, the pixels of filtering every frame, and filters no other", () => {
    const lazy = drawn(true);
    const all = drawn(false);
    expect(lazy.pixels.some((v) => v > 0)).toBe(true);
    expect(lazy.pixels).toEqual(all.pixels);
    expect(lazy.frames).toEqual(new Set([0, 2])); // frame 0 at the start, then frame 2
  });
});
