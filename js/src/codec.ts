/**
 * Decoding what tam_widget/display/wire.py sends (wire version 4): one little-endian buffer
 * holding every method's arrays, plus small JSON metadata. meta.methods maps each method's name
 * to its part ({arrays: {name: {dtype, offset, shape}}, ...its small JSON}, offsets absolute into
 * the one buffer); meta.method names the one shown first. This module checks the metadata every
 * method shares (items, frames, views, images) and hands each method's part to that method
 * (methods/index.ts); what a method's arrays mean is that method's business.
 */

import type { DiagnosisMeta } from "./views/diagnosis";
import { type ArraySpec, type Bytes, copyBytes, ownBytes, WireError } from "./arrays";
import { methodImpl, type MethodImpl, type MethodMaps } from "./methods";
import { gated } from "./methods/streamed";
import { type RowStore, withStreamed } from "./stream";

export const WIRE_VERSION = 4;

/** One explained item: the v-th displayed token (prompt items first, then the answer). */
export interface ItemMeta {
  text: string;
  position: number;
  word: number;
  prompt: boolean;
  gap?: boolean; // a space shown before it: the prompt skipped tokens (whitespace) there
  special?: boolean; // a special token (an answer's end of turn, e.g. <|im_end|>)
  whitespace?: boolean; // its text is only whitespace ("\n"): shown with visible marks
  id?: number; // the token's id in the model's vocabulary (absent in pages made before it existed)
}

/** A number in the metadata: finite numbers as themselves, NaN and the infinities as strings. */
export type WireNumber = number | "NaN" | "Infinity" | "-Infinity";

export interface Candidate {
  text: string;
  p: WireNumber;
  id?: number; // its token id (pages before candidate maps lack it)
}

/** The token the answer has at one step: its rank among the top candidates (-1: not among them), its probability (null: not recorded). */
export interface ChosenMeta {
  rank: number;
  p: WireNumber | null;
  id?: number; // its token id (pages before candidate maps lack it)
}

/** One image or video frame of the vision layout: a row-major (height, width) slice of n_v. */
export interface FrameMeta {
  offset: number;
  height: number;
  width: number;
}

/** One grid and the part of an input it covers; box = (x0, y0, x1, y1) fractions, may exceed [0, 1]. */
export interface ViewMeta {
  image: number;
  kind: string;
  grid: number[];
  box: number[];
  offset: number;
  frames: number[];
}

/** PNGs first .. first+frames-1 of the images trait hold this input (one for a still image). */
export interface ImageMeta {
  first: number;
  frames: number;
  height: number;
  width: number;
}

/** One method's part of the metadata: where its arrays lie in the buffer, and its own small JSON. */
export interface MethodPart {
  arrays: Record<string, ArraySpec>;
  [key: string]: unknown;
}

export interface WireMeta {
  version: number;
  method: string;
  methods: Record<string, MethodPart>;
  n_prompt: number;
  n_answer: number;
  frames: FrameMeta[];
  views: ViewMeta[];
  items: ItemMeta[];
  top: Candidate[][];
  chosen?: ChosenMeta[] | null; // one per answer step (absent in pages made before it existed)
  images: ImageMeta[];
  text: string;
  model: string;
  family: string;
  signal?: SignalMeta | null; // absent in pages made before it existed, null without TAM
  diagnosis?: DiagnosisMeta; // a hallucination diagnosis shown over EAGLE (pages made by Diagnosis.widget / save_html)
}

/** Each item's visual-signal strength (raw map peak / the answer's largest, tam_widget/display/signal.py) and the noise floor. */
export interface SignalMeta {
  strength: number[];
  floor: number;
}

/** What every method's maps are shaped by: T items, n_v vision cells split into frames. */
export interface Layout {
  T: number;
  nv: number;
  frames: FrameMeta[];
}

/** One method's decoded data, and the implementation that reads it. */
export interface DecodedMethod {
  name: string;
  impl: MethodImpl;
  maps: MethodMaps;
}

export interface Decoded {
  shown: DecodedMethod; // meta.method's
  methods: ReadonlyMap<string, DecodedMethod>;
}

/** A metadata number as a JS number: "NaN" / "Infinity" / "-Infinity" (or anything else not a number) give NaN or the infinity. */
export function wireNumber(x: unknown): number {
  if (typeof x === "number") return x;
  if (typeof x === "string") return Number(x);
  return Number.NaN;
}

/**
 * Check the shared metadata, then let each method decode its part from a private copy of the bytes
 * (`handedOver`: the bytes are the widget's alone, as a pending `_data`'s (pending.ts): kept, not copied).
 */
export function decode(bytes: Bytes, meta: WireMeta, rows?: RowStore, handedOver = false): Decoded {
  const layout = checkShared(meta);
  const { buf, parts, streamed } = withStreamed(handedOver ? ownBytes(bytes) : copyBytes(bytes), meta.methods);
  if (streamed.length && !rows) throw new WireError("This page's arrays stream from a kernel, but no kernel is connected.");
  for (const s of streamed) rows?.add(s.method, s.name, s.target, s.width);
  const methods = new Map<string, DecodedMethod>();
  for (const [name, part] of Object.entries(parts)) {
    const impl = methodImpl(name);
    const maps = impl.decode(buf, part, layout);
    const mine = streamed.filter((s) => s.method === name);
    methods.set(name, { name, impl, maps: rows && mine.length ? gated(maps, rows, mine, layout) : maps });
  }
  const shown = methods.get(meta.method);
  if (!shown) throw new WireError(`The wire shows method "${meta.method}" first but holds no data for it.`);
  return { shown, methods };
}

/** Check the metadata every method shares; the layout it describes. */
export function checkShared(meta: WireMeta): Layout {
  if (meta.version !== WIRE_VERSION) {
    throw new WireError(`Wire version ${meta.version} is not supported (this front end reads ${WIRE_VERSION}); rebuild the widget bundle.`);
  }
  for (const key of ["frames", "views", "items", "images", "top"] as const) {
    if (!Array.isArray(meta[key])) throw new WireError(`Wire meta.${key} must be a list.`);
  }
  if (typeof meta.methods !== "object" || meta.methods === null) throw new WireError("Wire meta.methods must be an object.");
  const T = meta.items.length;
  if (meta.n_prompt + meta.n_answer !== T) throw new WireError(`${meta.n_prompt} prompt + ${meta.n_answer} answer items, but ${T} items.`);
  checkViews(meta);
  return { T, nv: frameCells(meta.frames), frames: meta.frames };
}

/** The frames must tile n_v in order; returns n_v. */
function frameCells(frames: FrameMeta[]): number {
  let cells = 0;
  for (const f of frames) {
    if (f.offset !== cells) throw new WireError(`Frame at offset ${f.offset} should start at ${cells}.`);
    cells += f.height * f.width;
  }
  return cells;
}

/** Every view names an existing image and existing frames. */
function checkViews(meta: WireMeta): void {
  for (const [i, view] of meta.views.entries()) {
    if (!meta.images[view.image]) throw new WireError(`View ${i} shows image ${view.image}, but there are ${meta.images.length} images.`);
    if (view.frames.length === 0) throw new WireError(`View ${i} has no frames.`);
    const bad = view.frames.find((f) => !meta.frames[f]);
    if (bad !== undefined) throw new WireError(`View ${i} names frame ${bad}, but there are ${meta.frames.length} frames.`);
  }
}
