/**
 * Typed arrays out of the wire buffer (tam_widget/display/wire.py): each array is little-endian
 * at a 4-byte aligned absolute offset, described by an ArraySpec in its method's part of the meta.
 */

export interface ArraySpec {
  dtype: string;
  offset: number;
  shape: number[];
  streamed?: boolean; // left out of the buffer: its rows come from the kernel on demand (stream.ts)
}

export class WireError extends Error {
  override name = "WireError";
}

/** Bytes per element of each dtype the wire carries (readers here, streamed arrays in stream.ts). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = { uint8: 1, uint16: 2, int32: 4, float32: 4 };

export type Bytes = DataView | ArrayBuffer | ArrayBufferView;

/** A fresh, 4-byte aligned copy of the bytes (a DataView's offset may not be aligned). */
export function copyBytes(bytes: Bytes): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes.slice(0);
  const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(src);
  return out;
}

/** The bytes' own buffer when they span all of it (nobody else's: no copy), else a copy (copyBytes). */
export function ownBytes(bytes: Bytes): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  const whole = bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? (bytes.buffer as ArrayBuffer) : copyBytes(bytes);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The (T, n_v)-style array `name` as float32: a view on buf (a copy on a big-endian host). */
export function readFloat32(buf: ArrayBuffer, name: string, spec: ArraySpec | undefined, shape: number[]): Float32Array {
  const { offset, n } = place(buf, name, spec, "float32", shape);
  if (LITTLE_ENDIAN) return new Float32Array(buf, offset, n);
  const view = new DataView(buf, offset, 4 * n);
  return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
}

export function readInt32(buf: ArrayBuffer, name: string, spec: ArraySpec | undefined, shape: number[]): Int32Array {
  const { offset, n } = place(buf, name, spec, "int32", shape);
  if (LITTLE_ENDIAN) return new Int32Array(buf, offset, n);
  const view = new DataView(buf, offset, 4 * n);
  return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
}

/** A uint16 array (the earlier layers' quantised maps); its offset is 4-byte aligned like every array's. */
export function readUint16(buf: ArrayBuffer, name: string, spec: ArraySpec | undefined, shape: number[]): Uint16Array {
  const { offset, n } = place(buf, name, spec, "uint16", shape);
  if (LITTLE_ENDIAN) return new Uint16Array(buf, offset, n);
  const view = new DataView(buf, offset, 2 * n);
  return Uint16Array.from({ length: n }, (_, i) => view.getUint16(2 * i, true));
}

/** Check the spec against the expected dtype and shape and the buffer; its offset and element count. */
function place(buf: ArrayBuffer, name: string, spec: ArraySpec | undefined, dtype: string, shape: number[]) {
  const size = DTYPE_BYTES[dtype];
  if (!spec) throw new WireError(`Wire meta has no array "${name}".`);
  if (spec.dtype !== dtype) throw new WireError(`Array ${name} is ${spec.dtype}, expected ${dtype}.`);
  if (spec.shape.length !== shape.length || spec.shape.some((d, i) => d !== shape[i])) {
    throw new WireError(`Array ${name} has shape [${spec.shape}], expected [${shape}].`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (spec.offset % 4 !== 0 || spec.offset < 0 || spec.offset + size * n > buf.byteLength) {
    throw new WireError(`Array ${name} (offset ${spec.offset}, ${size * n} bytes) lies outside the ${buf.byteLength}-byte buffer.`);
  }
  return { offset: spec.offset, n };
}
