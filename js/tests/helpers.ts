/** Test helpers: a synthetic explanation in the wire format, and a fake anywidget model. */

import type { ArraySpec } from "../src/arrays";
import { type FrameMeta, type ItemMeta, type ViewMeta, WIRE_VERSION, type WireMeta } from "../src/codec";
import type { TamData } from "../src/methods/tam-math";
import type { Rows } from "../src/methods/tam-rows";
import type { Model, WidgetModel } from "../src/model";

/** mulberry32: a small deterministic generator, so synthetic cases are the same on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CaseOptions {
  nPrompt?: number;
  nAnswer?: number;
  grids?: number[][]; // [h, w] per image, [t, h, w] per video
  texts?: string[]; // item texts (default t0, t1, ...)
  words?: number[]; // item word indices (default: one word per item)
  gaps?: number[]; // items shown with a space before them
  boxes?: number[][];
  seed?: number;
}

export type Parts = Record<string, { values: Float32Array | Int32Array | Uint16Array; shape: number[] }>;

const padded = (n: number) => n + (-n & 3);

/** wire.py's buffer layout, for tests: the arrays little-endian one after the other (each 4-byte aligned), offsets from `start`. */
export function encodeArrays(parts: Parts, start = 0): { data: ArrayBuffer; arrays: Record<string, ArraySpec> } {
  const total = Object.values(parts).reduce((s, p) => s + padded(p.values.byteLength), start);
  const data = new ArrayBuffer(total);
  const view = new DataView(data);
  const arrays: Record<string, ArraySpec> = {};
  let offset = start;
  for (const [name, { values, shape }] of Object.entries(parts)) {
    const dtype = values instanceof Float32Array ? "float32" : values instanceof Uint16Array ? "uint16" : "int32";
    arrays[name] = { dtype, offset, shape: [...shape] };
    for (let i = 0; i < values.length; i++) {
      if (dtype === "float32") view.setFloat32(offset + 4 * i, values[i], true);
      else if (dtype === "uint16") view.setUint16(offset + 2 * i, values[i], true);
      else view.setInt32(offset + 4 * i, values[i], true);
    }
    offset += padded(values.byteLength);
  }
  return { data, arrays };
}

/** Rows (rows x n) quantised as tam_wire.py quantise_rows: uint16 levels over each row's range (NaN lo and step: a non-finite row). */
export function quantise(x: Float32Array, n: number): { q: Uint16Array; lo: Float32Array; step: Float32Array } {
  const rows = n > 0 ? x.length / n : 0;
  const q = new Uint16Array(x.length);
  const lo = new Float32Array(rows);
  const step = new Float32Array(rows);
  for (let k = 0; k < rows; k++) {
    const row = x.subarray(k * n, (k + 1) * n);
    if (!row.every(Number.isFinite)) {
      lo[k] = step[k] = NaN;
      continue;
    }
    lo[k] = Math.min(...row);
    step[k] = (Math.max(...row) - lo[k]) / 65535;
    const safe = step[k] > 0 ? step[k] : 1;
    for (let i = 0; i < n; i++) q[k * n + i] = Math.min(65535, Math.max(0, Math.round((row[i] - lo[k]) / safe)));
  }
  return { q, lo, step };
}

/** TAM's part of a v4 wire from dense arrays: A (T, n_v) quantised, omega (T, T) packed, R (T, T) cut to n_visible. */
export function tamParts(A: Float32Array, omega: Float32Array, scale: Float32Array, R: Float32Array, nVisible: Int32Array): Parts {
  const T = scale.length;
  const nv = T > 0 ? A.length / T : 0;
  const { q, lo, step } = quantise(A, nv);
  const tri: number[] = [];
  for (let v = 1; v < T; v++) for (let k = 0; k < v; k++) tri.push(omega[v * T + k]);
  const shown: number[] = [];
  for (let v = 0; v < T; v++) for (let k = 0; k < nVisible[v]; k++) shown.push(R[v * T + k]);
  return {
    A: { values: q, shape: [T, nv] },
    A_lo: { values: lo, shape: [T] },
    A_step: { values: step, shape: [T] },
    omega: { values: Float32Array.from(tri), shape: [tri.length] },
    R: { values: Float32Array.from(shown), shape: [shown.length] },
    scale: { values: scale, shape: [T] },
    n_visible: { values: nVisible, shape: [T] },
  };
}

export interface Case {
  data: ArrayBuffer;
  meta: WireMeta;
  images: DataView[];
}

export function syntheticCase(opts: CaseOptions = {}): Case {
  const { nPrompt = 4, nAnswer = 6, grids = [[6, 8]], seed = 1 } = opts;
  const T = nPrompt + nAnswer;
  const rnd = random(seed);
  const frames: WireMeta["frames"] = [];
  const views: ViewMeta[] = [];
  const images: WireMeta["images"] = [];
  let nv = 0;
  grids.forEach((grid, i) => {
    const [t, h, w] = grid.length === 3 ? grid : [1, ...grid];
    const view: ViewMeta = { image: i, kind: grid.length === 3 ? "video" : "image", grid, box: opts.boxes?.[i] ?? [0, 0, 1, 1], offset: nv, frames: [] };
    for (let k = 0; k < t; k++) {
      view.frames.push(frames.length);
      frames.push({ offset: nv, height: h, width: w });
      nv += h * w;
    }
    views.push(view);
    images.push({ first: images.reduce((s, m) => s + m.frames, 0), frames: 2 * t, height: 14 * h, width: 14 * w });
  });
  const A = Float32Array.from({ length: T * nv }, () => Math.max(0, rnd() * 4 - 1));
  // ECI weights: each item's earlier items, normalised to sum 1 (item 0 has no context)
  const omega = new Float32Array(T * T);
  for (let v = 1; v < T; v++) {
    let sum = 0;
    for (let k = 0; k < v; k++) sum += omega[v * T + k] = rnd();
    for (let k = 0; k < v; k++) omega[v * T + k] /= sum;
  }
  const scale = Float32Array.from({ length: T }, (_, v) => (v === 0 ? NaN : rnd()));
  const R = Float32Array.from({ length: T * T }, () => rnd() * 3);
  const nVisible = Int32Array.from({ length: T }, (_, v) => (v < nPrompt ? nPrompt : v));
  const { data, arrays } = encodeArrays(tamParts(A, omega, scale, R, nVisible));
  const items: ItemMeta[] = Array.from({ length: T }, (_, i) => ({
    text: opts.texts?.[i] ?? ` t${i}`,
    position: 100 + i,
    word: opts.words?.[i] ?? 100 + i,
    prompt: i < nPrompt,
    gap: opts.gaps?.includes(i) ?? false,
  }));
  const meta: WireMeta = {
    version: WIRE_VERSION,
    method: "tam",
    methods: { tam: { arrays, kernel: 3 } },
    n_prompt: nPrompt,
    n_answer: nAnswer,
    frames,
    views,
    items,
    top: Array.from({ length: nAnswer }, (_, r) => [
      { text: items[nPrompt + r].text, p: 0.6 },
      { text: "<b>other</b>", p: 0.3 },
      { text: "</script>", p: 0.1 },
    ]),
    images,
    text: items.slice(nPrompt).map((it) => it.text).join(""),
    model: "synthetic",
    family: "test",
  };
  const nImages = images.reduce((s, m) => s + m.frames, 0);
  return { data, meta, images: Array.from({ length: nImages }, () => new DataView(new Uint8Array([137, 80, 78, 71]).buffer)) };
}

type Handler = (...args: unknown[]) => void;

/** Enough of an anywidget model: get/set fire change:<key> like Backbone, save_changes is counted. */
export class FakeModel {
  saves = 0;
  sent: unknown[] = [];
  readonly handlers = new Map<string, Set<Handler>>();
  readonly widget_manager = {};

  constructor(public values: Record<string, unknown>) {}

  get(key: string): unknown {
    return this.values[key];
  }

  set(key: string, value: unknown): void {
    if (this.values[key] === value) return;
    this.values[key] = value;
    for (const fn of this.handlers.get(`change:${key}`) ?? []) fn();
  }

  on(name: string, fn: Handler): void {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name)?.add(fn);
  }

  off(name?: string | null, fn?: Handler | null): void {
    if (!name) this.handlers.clear();
    else if (!fn) this.handlers.delete(name);
    else this.handlers.get(name)?.delete(fn);
  }

  save_changes(): void {
    this.saves++;
  }

  send(content: unknown): void {
    this.sent.push(content);
  }

  listenerCount(): number {
    return [...this.handlers.values()].reduce((s, set) => s + set.size, 0);
  }

  asModel(): WidgetModel {
    return this as unknown as WidgetModel;
  }
}

/** A fake model holding a case and the Python defaults of the small traits. */
export function fakeModel(c: Case, traits: Partial<Model> = {}): FakeModel {
  return new FakeModel({
    _data: new DataView(c.data),
    _meta: c.meta,
    _images: c.images,
    method: c.meta.method,
    selected: c.meta.n_prompt,
    eci_scale: 1,
    eci: true,
    filter: true,
    opacity: 0.5,
    colormap: "jet",
    group_words: false,
    smooth: true,
    show_original: false,
    layer: -1, // the Python default of a page of the last layer only
    ...traits,
  });
}

/** Dense TAM arrays ((T, n_v) A, (T, T) omega and R) as the decoder's TamData: omega packed, R cut to n_visible, A as `rows` (default: quantised). */
export function denseTamData(A: Float32Array, omega: Float32Array, scale: Float32Array, R: Float32Array, nVisible: Int32Array, frames: FrameMeta[], kernel = 3, rows?: Rows): TamData {
  const T = scale.length;
  const nv = T > 0 ? A.length / T : 0;
  const parts = tamParts(A, omega, scale, R, nVisible);
  const rStart = new Int32Array(T + 1);
  for (let v = 0; v < T; v++) rStart[v + 1] = rStart[v] + nVisible[v];
  const q = rows ?? { ...quantise(A, nv), n: nv };
  return { T, nv, A: q, omega: parts.omega.values as Float32Array, scale, R: parts.R.values as Float32Array, rStart, nVisible, kernel, frames };
}
