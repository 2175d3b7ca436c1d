/**
 * The rows of a large explanation's big arrays, asked of the kernel as the page needs them
 * (tam_widget/display/stream.py has the messages). Each streamed array is allocated empty by the
 * decoder and filled here block by block; `need` asks for the blocks below a row, `prefetch`
 * for the next block nobody asked for yet, so the whole array arrives in the background.
 */

import { DTYPE_BYTES, WireError } from "./arrays";
import type { WidgetModel } from "./model";

export type RowArray = Uint8Array | Uint16Array | Int32Array | Float32Array;

export interface RowsRequest {
  rows: { method: string; array: string; start: number; stop: number };
}

export interface RowsReply {
  rows: { method: string; array: string; start: number; stop: number; error?: string };
}

export const BLOCK_BYTES = 1 << 20; // about this much per request (stream.py's BLOCK_BYTES)

interface Streamed {
  method: string;
  array: string;
  target: RowArray;
  width: number; // elements per row
  block: number; // rows per block
  state: Uint8Array; // per block: 0 not asked, 1 asked, 2 here, 3 failed
}

const ASKED = 1;
const HERE = 2;
const FAILED = 3;

export class RowStore {
  private readonly streams = new Map<string, Streamed>();
  private inFlight = 0;

  constructor(
    private readonly send: (msg: RowsRequest) => void,
    private readonly onArrive: () => void,
    private readonly maxInFlight = 2,
  ) {}

  /** Stream `target` (rows x width, row-major) of `method`'s `array`. */
  add(method: string, array: string, target: RowArray, width: number): void {
    const rows = width > 0 ? target.length / width : 0;
    const block = Math.max(1, Math.floor(BLOCK_BYTES / Math.max(1, width * target.BYTES_PER_ELEMENT)));
    const state = new Uint8Array(Math.ceil(rows / block));
    this.streams.set(key(method, array), { method, array, target, width, block, state });
  }

  /** Whether anything is streamed at all (a page from a small explanation: no). */
  get active(): boolean {
    return this.streams.size > 0;
  }

  /** Whether rows [start, stop) of the array are here (an array not streamed always is). */
  ready(method: string, array: string, stop: number, start = 0): boolean {
    const s = this.streams.get(key(method, array));
    if (!s) return true;
    for (let b = Math.floor(start / s.block); b * s.block < stop; b++) if (s.state[b] !== HERE) return false;
    return true;
  }

  /** Whether a block the rows need could not be had (the kernel refused or went away). */
  failed(method: string, array: string, stop: number, start = 0): boolean {
    const s = this.streams.get(key(method, array));
    if (!s) return false;
    for (let b = Math.floor(start / s.block); b * s.block < stop; b++) if (s.state[b] === FAILED) return true;
    return false;
  }

  /** Ask for every missing block of rows [start, stop); true when they are all here already. */
  need(method: string, array: string, stop: number, start = 0): boolean {
    const s = this.streams.get(key(method, array));
    if (!s) return true;
    for (let b = Math.floor(start / s.block); b * s.block < stop; b++) if (s.state[b] === 0) this.ask(s, b);
    return this.ready(method, array, stop, start);
  }

  /** Ask for the next blocks nobody asked for yet, keeping at most maxInFlight requests out. */
  prefetch(): void {
    for (const s of this.streams.values()) {
      for (let b = 0; b < s.state.length && this.inFlight < this.maxInFlight; b++) if (s.state[b] === 0) this.ask(s, b);
    }
  }

  /** Take a kernel message; false when it is not a rows reply (someone else's). */
  receive(msg: unknown, buffers: readonly (DataView | ArrayBuffer)[] = []): boolean {
    const reply = (msg as RowsReply | null)?.rows;
    if (!reply || typeof reply !== "object") return false;
    const s = this.streams.get(key(reply.method, reply.array));
    if (!s) return true;
    const b = Math.floor(reply.start / s.block);
    if (s.state[b] === ASKED) this.inFlight--;
    s.state[b] = this.fill(s, reply, buffers[0]) ? HERE : FAILED;
    this.prefetch();
    this.onArrive();
    return true;
  }

  private ask(s: Streamed, b: number): void {
    const start = b * s.block;
    const stop = Math.min(start + s.block, s.target.length / s.width);
    s.state[b] = ASKED;
    this.inFlight++;
    this.send({ rows: { method: s.method, array: s.array, start, stop } });
  }

  private fill(s: Streamed, reply: RowsReply["rows"], buf: DataView | ArrayBuffer | undefined): boolean {
    const n = (reply.stop - reply.start) * s.width;
    const bytes = n * s.target.BYTES_PER_ELEMENT;
    if (reply.error || !buf || buf.byteLength !== bytes || reply.start % s.block !== 0) {
      console.warn(`tam-widget: rows ${reply.start}..${reply.stop} of ${s.array} could not be had`, reply.error ?? "");
      return false;
    }
    const src = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    new Uint8Array(s.target.buffer, s.target.byteOffset + reply.start * s.width * s.target.BYTES_PER_ELEMENT, bytes).set(src);
    return true;
  }
}

/** Feed `rows` the kernel's replies as they come and ask for the rest in the background; the cleanup (nothing streamed: nothing to do). */
export function listenRows(model: WidgetModel, rows: RowStore): () => void {
  if (!rows.active) return () => {};
  const take = (msg: unknown, buffers?: readonly DataView[]) => void rows.receive(msg, buffers ?? []);
  model.on("msg:custom", take);
  rows.prefetch();
  return () => model.off("msg:custom", take);
}

function key(method: string, array: string): string {
  return `${method}\u0000${array}`;
}

/** A streamed array's place: allocated after the buffer's own bytes, filled by a RowStore. */
export interface StreamedArray {
  method: string;
  name: string;
  target: RowArray;
  shape: readonly number[];
  rows: number; // leading dimensions flattened
  width: number; // the last dimension
}

type Spec = { dtype: string; offset: number; shape: number[]; streamed?: boolean };
type Parts = Record<string, { arrays: Record<string, Spec>; [key: string]: unknown }>;

const MAKE: Record<string, (buf: ArrayBuffer, offset: number, n: number) => RowArray> = {
  uint8: (b, o, n) => new Uint8Array(b, o, n),
  uint16: (b, o, n) => new Uint16Array(b, o, n),
  int32: (b, o, n) => new Int32Array(b, o, n),
  float32: (b, o, n) => new Float32Array(b, o, n),
};

/**
 * The page's own copy of the buffer (`own`), grown to hold every streamed array after its bytes, the parts
 * with those arrays' offsets pointing there (so each method decodes them like any other array),
 * and the arrays to fill. A page without streamed arrays gets a plain copy.
 */
export function withStreamed<P extends Parts>(own: ArrayBuffer, parts: P): { buf: ArrayBuffer; parts: P; streamed: StreamedArray[] } {
  let end = align4(own.byteLength);
  const placed: { method: string; name: string; spec: Spec; offset: number; n: number }[] = [];
  const out: Parts = {};
  for (const [method, part] of Object.entries(parts)) {
    const arrays = { ...part.arrays };
    for (const [name, spec] of Object.entries(arrays)) {
      if (!spec.streamed) continue;
      const size = Object.hasOwn(MAKE, spec.dtype) ? DTYPE_BYTES[spec.dtype] : 0;
      if (!size || spec.shape.length < 2) throw new WireError(`A streamed array ${name} must be 2-D or more of ${Object.keys(MAKE)}, got ${spec.dtype} [${spec.shape}].`);
      const n = spec.shape.reduce((a, b) => a * b, 1);
      arrays[name] = { ...spec, offset: end };
      placed.push({ method, name, spec, offset: end, n });
      end = align4(end + n * size);
    }
    out[method] = { ...part, arrays };
  }
  if (!placed.length) return { buf: own, parts, streamed: [] }; // nothing streams: the buffer as it came
  const buf = new ArrayBuffer(end);
  new Uint8Array(buf).set(new Uint8Array(own));
  const streamed = placed.map(({ method, name, spec, offset, n }) => {
    const width = spec.shape[spec.shape.length - 1];
    return { method, name, shape: spec.shape, target: MAKE[spec.dtype](buf, offset, n), rows: width > 0 ? n / width : 0, width };
  });
  return { buf, parts: out as P, streamed };
}

function align4(n: number): number {
  return n + (-n & 3);
}
