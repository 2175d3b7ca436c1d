// @vitest-environment jsdom
/**
 * The exported page's two-stage start (html.py's host, src/pending.ts): `_data` arrives as a promise;
 * the widget shows the tokens, pictures and controls at once with a "decoding" notice on the map,
 * then decodes and draws the map once, the same map a widget given the bytes draws.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Snapshot } from "../src/app";
import { copyBytes, ownBytes } from "../src/arrays";
import { DECODING } from "../src/pending";
import { HeatmapPanel } from "../src/views/heatmap";
import { TokenView } from "../src/views/tokens";
import widget from "../src/widget";
import { fakeModel, syntheticCase } from "./helpers";

type Root = HTMLElement & { tam: { snapshot(): Snapshot | null; ready(): Promise<void> } };

const cleanups: (() => void)[] = [];

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

/** Render a widget whose `_data` is `data` (the bytes, or a promise of them); its root. */
function mount(data: unknown, c = syntheticCase({ nPrompt: 3, nAnswer: 5, grids: [[4, 5], [3, 3]] })): { root: Root; el: HTMLElement } {
  const model = fakeModel(c, { selected: 5 });
  model.values._data = data as DataView;
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(widget.render({ model: model.asModel(), el }));
  return { root: el.querySelector(".tam-widget") as Root, el };
}

const notice = (el: HTMLElement) => el.querySelector('[data-role="map-notice"]') as HTMLElement;
const tokens = (el: HTMLElement) => el.querySelectorAll('[data-role="token"]');

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe("a pending _data", () => {
  it("shows the tokens and a decoding notice first, then the map a widget given the bytes draws", async () => {
    const c = syntheticCase({ nPrompt: 3, nAnswer: 5, grids: [[4, 5], [3, 3]] });
    const want = mount(new DataView(copyBytes(c.data)), c).root.tam.snapshot();
    const data = deferred<DataView>();
    const { root, el } = mount(data.promise, c);
    expect(tokens(el).length).toBe(8); // the tokens, before any byte of the maps
    expect(el.querySelectorAll('[data-role="heatmap"]').length).toBe(2);
    expect([notice(el).hidden, notice(el).textContent]).toEqual([false, DECODING]);
    expect(root.tam.snapshot()?.image.every((x) => x === 0)).toBe(true); // nothing drawn from bytes it does not have
    data.resolve(new DataView(c.data));
    await root.tam.ready();
    expect(notice(el).hidden).toBe(true);
    expect(root.tam.snapshot()).toEqual(want);
  });

  it("builds the tokens once and draws each panel once before the data and once after (no redraw storm)", async () => {
    const draw = vi.spyOn(HeatmapPanel.prototype, "draw");
    const render = vi.spyOn(TokenView.prototype, "render");
    const c = syntheticCase({ nPrompt: 3, nAnswer: 5, grids: [[4, 5], [3, 3]] });
    const data = deferred<DataView>();
    const { root } = mount(data.promise, c);
    expect([draw.mock.calls.length, render.mock.calls.length]).toEqual([2, 1]);
    data.resolve(new DataView(c.data));
    await root.tam.ready();
    expect([draw.mock.calls.length, render.mock.calls.length]).toEqual([4, 1]);
  });

  it("says why when the data cannot be had or decoded, instead of a map", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const data = deferred<DataView>();
    const { root, el } = mount(data.promise);
    data.reject(new Error("the page's data could not be inflated: bad"));
    await expect(root.tam.ready()).rejects.toThrow("inflated");
    await Promise.resolve();
    expect(el.querySelector('[data-role="error"]')?.textContent).toContain("could not be inflated");
    const short = mount(Promise.resolve(new DataView(new ArrayBuffer(8))));
    await expect(short.root.tam.ready()).rejects.toThrow(/outside/);
    await Promise.resolve();
    expect(short.el.querySelector('[data-role="error"]')?.textContent).toContain("could not show this explanation");
  });

  it("draws nothing once the widget is gone", async () => {
    const draw = vi.spyOn(HeatmapPanel.prototype, "draw");
    const c = syntheticCase();
    const data = deferred<DataView>();
    const { root } = mount(data.promise, c);
    const ready = root.tam.ready();
    cleanups.pop()?.();
    const before = draw.mock.calls.length;
    data.resolve(new DataView(c.data));
    await ready;
    expect(draw.mock.calls.length).toBe(before);
  });
});

describe("ownBytes", () => {
  it("keeps a buffer the bytes span whole and copies a part of one", () => {
    const buf = new ArrayBuffer(16);
    expect(ownBytes(new DataView(buf))).toBe(buf);
    expect(ownBytes(buf)).toBe(buf);
    const part = ownBytes(new DataView(buf, 4, 8));
    expect(part).not.toBe(buf);
    expect(part.byteLength).toBe(8);
  });
});
