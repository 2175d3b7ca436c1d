// @vitest-environment jsdom
/**
 * A large explanation in a notebook (tam_widget/display/stream.py): the page holds its big arrays
 * empty, asks the kernel for the rows the shown item reads, says it is loading meanwhile, and
 * once the rows arrive shows exactly the map of a page that had them all along.
 */
import { afterEach, describe, expect, it } from "vitest";
import { decode, type WireMeta } from "../src/codec";
import { LOADING, UNAVAILABLE } from "../src/methods/streamed";
import type { TamMaps } from "../src/methods/tam";
import type { Snapshot } from "../src/state/shown";
import { RowStore, type RowsRequest } from "../src/stream";
import widget from "../src/widget";
import { type Case, fakeModel, type FakeModel, syntheticCase } from "./helpers";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
  document.body.replaceChildren();
});

/** The same case with TAM's A left out of the buffer, as stream.py sends it. */
function streamedCase(c: Case): Case {
  const tam = c.meta.methods.tam;
  const arrays = { ...tam.arrays, A: { ...tam.arrays.A, offset: 0, streamed: true } };
  const meta: WireMeta = { ...c.meta, methods: { tam: { ...tam, arrays } } };
  return { ...c, meta };
}

/** The kernel's reply to a rows request: rows start..stop-1 of A, read from the full case's buffer. */
function reply(c: Case, req: RowsRequest): [unknown, DataView[]] {
  const spec = c.meta.methods.tam.arrays.A;
  const width = spec.shape[1];
  const { start, stop } = req.rows;
  const bytes = c.data.slice(spec.offset + 2 * start * width, spec.offset + 2 * stop * width);
  return [{ rows: { ...req.rows } }, [new DataView(bytes)]];
}

function mount(c: Case, selected: number): { model: FakeModel; el: HTMLElement } {
  const model = fakeModel(c, { selected });
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanups.push(widget.render({ model: model.asModel(), el }));
  return { model, el };
}

const snap = (el: HTMLElement) => (el.querySelector(".tam-widget") as unknown as { tam: { snapshot(): Snapshot } }).tam.snapshot();
const notice = (el: HTMLElement) => el.querySelector('[data-role="map-notice"]') as HTMLElement;
const emit = (model: FakeModel, msg: unknown, buffers: DataView[]) => {
  for (const fn of model.handlers.get("msg:custom") ?? []) fn(msg, buffers);
};

describe("a streamed explanation", () => {
  const full = syntheticCase({ nPrompt: 3, nAnswer: 9, grids: [[6, 8], [4, 4]] });
  const item = 7;

  it("asks for the rows the item reads, says it is loading, then shows the full page's map exactly", () => {
    const want = snap(mount(full, item).el);
    const { model, el } = mount(streamedCase(full), item);
    expect(notice(el).hidden).toBe(false);
    expect(notice(el).textContent).toBe(LOADING);
    const asked = model.sent as RowsRequest[];
    expect(asked[0]).toEqual({ rows: { method: "tam", array: "A", start: 0, stop: 12 } });
    emit(model, ...reply(full, asked[0]));
    const got = snap(el);
    expect(got?.image).toEqual(want?.image);
    expect(got?.text).toEqual(want?.text);
    expect(notice(el).textContent).not.toBe(LOADING);
  });

  it("says so when the kernel refuses the rows, instead of loading for ever", () => {
    const { model, el } = mount(streamedCase(full), item);
    const asked = model.sent as RowsRequest[];
    const warn = console.warn;
    console.warn = () => {};
    emit(model, { rows: { ...asked[0].rows, error: "no such rows" } }, []);
    console.warn = warn;
    model.set("selected", item - 1); // any item: the one block is gone
    expect(notice(el).textContent).toBe(UNAVAILABLE);
  });

  it("lets the idle precompute take only items whose rows are here", () => {
    const maps = decode(new DataView(full.data), full.meta).shown.maps as TamMaps;
    maps.readyWhen((item) => item < 3);
    expect(maps.job(5)).toBeNull(); // its rows are not here: no E from empty rows
    expect(maps.job(2)).not.toBeNull();
  });

  it("refuses to decode streamed arrays without a kernel to stream them", () => {
    const c = streamedCase(full);
    expect(() => decode(new DataView(c.data), c.meta)).toThrow(/no kernel/);
    expect(() => decode(new DataView(c.data), c.meta, new RowStore(() => {}, () => {}))).not.toThrow();
  });
});
