/**
 * Decoding of what tam_widget/wire.py sends: one little-endian buffer holding A, omega, scale, R
 * and n_visible (each at a 4-byte aligned offset described in meta.arrays), plus small JSON metadata.
 */

export const WIRE_VERSION = 2;

export type DType = "float32" | "int32";

export interface ArraySpec {
  dtype: string;
  offset: number;
  shape: number[];
}

/** One explained item: the v-th displayed token (prompt items first, then the answer). */
export interface ItemMeta {
  text: string;
  position: number;
  word: number;
  prompt: boolean;
  gap?: boolean; // a space shown before it: the prompt skipped tokens (whitespace) there
}

export interface Candidate {
  text: string;
  p: number;
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

export type ArrayName = "A" | "omega" | "scale" | "R" | "n_visible";

export interface WireMeta {
  version: number;
  arrays: Record<ArrayName, ArraySpec>;
  n_prompt: number;
  n_answer: number;
  kernel: number;
  frames: FrameMeta[];
  views: ViewMeta[];
  items: ItemMeta[];
  top: Candidate[][];
  images: ImageMeta[];
  text: string;
  model: string;
  family: string;
}

/** The numbers every map is recomputed from: T items, n_v vision cells, row-major (T, n_v) / (T, T). */
export interface TamData {
  T: number;
  nv: number;
  A: Float32Array; // (T, n_v) raw maps
  omega: Float32Array; // (T, T) ECI weights: item v's interference map is E_v = omega_v @ A
  scale: Float32Array; // NaN where the item has no ECI context
  R: Float32Array;
  nVisible: Int32Array;
  kernel: number;
  frames: FrameMeta[];
}

export class WireError extends Error {
  override name = "WireError";
}

export type Bytes = DataView | ArrayBuffer | ArrayBufferView;

/** A fresh, 4-byte aligned copy of the bytes (a DataView's offset may not be aligned). */
export function copyBytes(bytes: Bytes): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes.slice(0);
  const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(src);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readArray(buf: ArrayBuffer, name: ArrayName, spec: ArraySpec | undefined, dtype: DType, shape: number[]) {
  if (!spec) throw new WireError(`Wire meta has no array "${name}".`);
  if (spec.dtype !== dtype) throw new WireError(`Array ${name} is ${spec.dtype}, expected ${dtype}.`);
  if (spec.shape.length !== shape.length || spec.shape.some((d, i) => d !== shape[i])) {
    throw new WireError(`Array ${name} has shape [${spec.shape}], expected [${shape}].`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (spec.offset % 4 !== 0 || spec.offset < 0 || spec.offset + 4 * n > buf.byteLength) {
    throw new WireError(`Array ${name} (offset ${spec.offset}, ${4 * n} bytes) lies outside the ${buf.byteLength}-byte buffer.`);
  }
  if (LITTLE_ENDIAN) {
    return dtype === "float32" ? new Float32Array(buf, spec.offset, n) : new Int32Array(buf, spec.offset, n);
  }
  const view = new DataView(buf, spec.offset, 4 * n); // big-endian host: read element by element
  const out = dtype === "float32" ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = dtype === "float32" ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true);
  return out;
}

/** Check the metadata against the buffer and return typed views on a private copy of it. */
export function decode(bytes: Bytes, meta: WireMeta): TamData {
  if (meta.version !== WIRE_VERSION) {
    throw new WireError(`Wire version ${meta.version} is not supported (this front end reads ${WIRE_VERSION}); rebuild the widget bundle.`);
  }
  const spec = meta.arrays.A;
  if (!spec || spec.shape.length !== 2) throw new WireError("Array A must be (T, n_v).");
  const [T, nv] = spec.shape as [number, number];
  const buf = copyBytes(bytes);
  const data: TamData = {
    T,
    nv,
    A: readArray(buf, "A", meta.arrays.A, "float32", [T, nv]) as Float32Array,
    omega: readArray(buf, "omega", meta.arrays.omega, "float32", [T, T]) as Float32Array,
    scale: readArray(buf, "scale", meta.arrays.scale, "float32", [T]) as Float32Array,
    R: readArray(buf, "R", meta.arrays.R, "float32", [T, T]) as Float32Array,
    nVisible: readArray(buf, "n_visible", meta.arrays.n_visible, "int32", [T]) as Int32Array,
    kernel: meta.kernel,
    frames: meta.frames,
  };
  validate(data, meta);
  return data;
}

function validate(data: TamData, meta: WireMeta): void {
  const k = data.kernel;
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new WireError(`Kernel ${k} must be an odd integer >= 1.`);
  let cells = 0;
  for (const f of data.frames) {
    if (f.offset !== cells) throw new WireError(`Frame at offset ${f.offset} should start at ${cells}.`);
    cells += f.height * f.width;
  }
  if (cells !== data.nv) throw new WireError(`The frames hold ${cells} cells but A has ${data.nv} columns.`);
  if (meta.items.length !== data.T) throw new WireError(`${meta.items.length} items for ${data.T} maps.`);
  for (let v = 0; v < data.T; v++) {
    const n = data.nVisible[v];
    if (n < 0 || n > data.T) throw new WireError(`n_visible[${v}] = ${n} is outside 0..${data.T}.`);
  }
}

/** The inverse of decode's buffer layout (wire.py's), for tests and tools: arrays in the given order. */
export function encode(parts: Record<ArrayName, { values: Float32Array | Int32Array; shape: number[] }>): {
  data: ArrayBuffer;
  arrays: Record<ArrayName, ArraySpec>;
} {
  const names: ArrayName[] = ["A", "omega", "scale", "R", "n_visible"];
  const total = names.reduce((s, n) => s + parts[n].values.byteLength, 0);
  const data = new ArrayBuffer(total);
  const view = new DataView(data);
  const arrays = {} as Record<ArrayName, ArraySpec>;
  let offset = 0;
  for (const name of names) {
    const { values, shape } = parts[name];
    const float = values instanceof Float32Array;
    arrays[name] = { dtype: float ? "float32" : "int32", offset, shape: [...shape] };
    for (let i = 0; i < values.length; i++) {
      if (float) view.setFloat32(offset + 4 * i, values[i], true);
      else view.setInt32(offset + 4 * i, values[i], true);
    }
    offset += values.byteLength;
  }
  return { data, arrays };
}
