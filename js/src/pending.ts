/**
 * The page's maps before its buffer is here: the exported page (display/html.py) shows the tokens,
 * pictures and controls from the metadata first and inflates the buffer meanwhile. Until then each
 * method's maps answer "decoding" (pending: never kept, asked again on the next redraw), so the
 * App draws no map from bytes it does not have; `arrival` then swaps in the decoded maps.
 */

import { checkShared, type Decoded, type DecodedMethod, type WireMeta } from "./codec";
import { type Bytes, WireError } from "./arrays";
import { methodImpl } from "./methods";
import type { ItemMaps, MethodMaps } from "./methods/index";
import { layerInfo } from "./methods/tam-layers";

export const DECODING = "Decoding the maps…";

/** The `_data` a page hands over before it has it: a promise of bytes that are then the widget's alone
 * (decoded in place, not copied); a notebook's model holds the bytes themselves. */
export function isPending(data: unknown): data is PromiseLike<Bytes> {
  return typeof (data as PromiseLike<Bytes> | null)?.then === "function";
}

/** Every method of `meta` (its shared metadata checked) with maps that wait for the buffer. */
export function pendingDecoded(meta: WireMeta): Decoded {
  const { nv } = checkShared(meta);
  const methods = new Map<string, DecodedMethod>();
  for (const [name, part] of Object.entries(meta.methods)) {
    const layers = name === "tam" ? layerInfo(part) : null; // the layer slider is built from it, before the data
    methods.set(name, { name, impl: methodImpl(name), maps: waiting(nv, layers) });
  }
  const shown = methods.get(meta.method);
  if (!shown) throw new WireError(`The wire shows method "${meta.method}" first but holds no data for it.`);
  return { shown, methods };
}

function waiting(nv: number, layers: MethodMaps["layers"]): MethodMaps {
  const image = new Float32Array(nv);
  const maps: ItemMaps = { image, text: new Float32Array(0), nText: 0, notice: DECODING, pending: true };
  return { layers, compute: () => maps };
}
