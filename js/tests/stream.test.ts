/** RowStore (src/stream.ts): rows asked in blocks as the page needs them, filled in place, the rest prefetched. */
import { describe, expect, it, vi } from "vitest";
import { BLOCK_BYTES, RowStore, type RowsRequest } from "../src/stream";

const WIDTH = BLOCK_BYTES / 2 / 4; // uint16 rows: 4 rows per block

function kernel(source: Uint16Array, width: number) {
  return (req: RowsRequest) => {
    const { start, stop } = req.rows;
    return { msg: { rows: { ...req.rows } }, buffers: [new DataView(source.slice(start * width, stop * width).buffer)] };
  };
}

const same = (a: Uint16Array, b: Uint16Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function setup(rows = 10) {
  const source = Uint16Array.from({ length: rows * WIDTH }, (_, i) => (i * 7919) % 65536);
  const target = new Uint16Array(rows * WIDTH);
  const sent: RowsRequest[] = [];
  const arrived = vi.fn();
  const store = new RowStore((m) => sent.push(m), arrived);
  store.add("tam", "A", target, WIDTH);
  const answer = (req: RowsRequest) => {
    const { msg, buffers } = kernel(source, WIDTH)(req);
    return store.receive(msg, buffers);
  };
  return { source, target, sent, arrived, store, answer };
}

describe("RowStore", () => {
  it("asks only for the blocks below the needed row, once each", () => {
    const { sent, store } = setup();
    expect(store.need("tam", "A", 5)).toBe(false);
    expect(sent.map((m) => [m.rows.start, m.rows.stop])).toEqual([[0, 4], [4, 8]]);
    store.need("tam", "A", 5);
    expect(sent).toHaveLength(2);
  });

  it("fills the rows in place, byte-equal to the kernel's, then prefetches the rest", () => {
    const { source, target, sent, arrived, store, answer } = setup();
    store.need("tam", "A", 1);
    expect(answer(sent[0])).toBe(true);
    expect(store.ready("tam", "A", 4)).toBe(true);
    expect(store.ready("tam", "A", 5)).toBe(false);
    expect(arrived).toHaveBeenCalledTimes(1);
    expect(same(target.subarray(0, 4 * WIDTH), source.subarray(0, 4 * WIDTH))).toBe(true);
    expect(target[4 * WIDTH + 1]).toBe(0);
    expect(sent.slice(1).map((m) => m.rows.start)).toEqual([4, 8]);
    for (const m of sent.slice(1)) answer(m);
    expect(store.ready("tam", "A", 10)).toBe(true);
    expect(same(target, source)).toBe(true);
  });

  it("marks a refused block failed instead of waiting forever", () => {
    const { sent, store } = setup();
    store.need("tam", "A", 1);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    store.receive({ rows: { ...sent[0].rows, error: "no such rows" } }, []);
    warn.mockRestore();
    expect(store.ready("tam", "A", 1)).toBe(false);
    expect(store.failed("tam", "A", 1)).toBe(true);
  });

  it("refuses a reply of the wrong size", () => {
    const { sent, store } = setup();
    store.need("tam", "A", 1);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    store.receive({ rows: { ...sent[0].rows } }, [new DataView(new ArrayBuffer(6))]);
    warn.mockRestore();
    expect(store.failed("tam", "A", 1)).toBe(true);
  });

  it("leaves other messages alone and treats arrays it does not stream as ready", () => {
    const { store } = setup();
    expect(store.receive({ what_if: "x" })).toBe(false);
    expect(store.ready("tam", "omega", 100)).toBe(true);
    expect(new RowStore(() => {}, () => {}).active).toBe(false);
  });
});
