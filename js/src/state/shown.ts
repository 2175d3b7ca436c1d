// Derived state: what the image panel shows for the item on show: its own map, a picked
// candidate's map, or the signed contrast of two; whether it is flat (no visual signal) and the
// notice that says why it is not drawn.

import type { WireMeta } from "../codec";
import type { Params } from "../methods";
import { ClassMaps, type MapState } from "./derived";
import type { CandidatePick } from "./local";
import type { Settings } from "./synced";

/** A shown map whose values spread less than this is flat: nothing to localise. */
export const FLAT_SPREAD = 1e-6;

export interface ShownMap {
  item: number;
  params: Params; // what the map depends on (TAM: lambda, filter)
  readonly image: Float32Array; // (n_v): in [0, 1], or in [-1, 1] when signed
  frame?(f: number): Float32Array; // image with frame f ready, the rest maybe not yet (ItemMaps.frame): what a panel reads
  text: Float32Array; // relevance of the earlier items (none for a contrast)
  nText: number;
  finite: boolean; // false: the data hold NaN or infinities, the map is n/a (not drawn)
  flat: boolean; // no visual signal: not drawn, the notice says why
  signed: boolean; // a contrast: drawn with the diverging colours
  pick: CandidatePick | null; // the candidate (or contrast) shown, null for the item's own map
  notice: string; // "" when the map is drawn
}

/** What the App's `snapshot()` returns (tests and debugging read it through the root element's `tam`). */
export interface Snapshot {
  method: string; // the method on show
  selected: number;
  shown: number;
  settings: Params; // what the map depends on (TAM: lambda, filter; EAGLE: nothing)
  image: number[]; // (n_v) in [0, 1]
  text: number[]; // relevance of the earlier items
  finite: boolean; // false: the item's data hold NaN or infinities, the map is shown as n/a (not drawn)
  flat: boolean; // no visual signal: below the noise floor or no spread; not drawn, said on the canvas
  pick: CandidatePick | null; // the candidate shown instead of the item's own map (b: a contrast, image signed)
}

/** A shown map as plain numbers. */
export function snapshotOf(method: string, selected: number, map: ShownMap): Snapshot {
  const { item: shown, params, image, text, finite, flat, pick } = map;
  return { method, selected, shown, settings: { ...params }, image: Array.from(image), text: Array.from(text), finite, flat, pick: pick && { ...pick } };
}

export class ShownMaps {
  private readonly classes: ClassMaps;
  private readonly floor: boolean; // meta.signal describes this method's maps (TAM's)

  constructor(
    readonly state: MapState,
    private readonly meta: WireMeta,
    nv: number,
  ) {
    this.classes = new ClassMaps(state.method, nv);
    this.floor = state.method.impl.signal !== false;
  }

  /** Whether this page can show candidates' maps (TAM pages with candidate arrays). */
  get canPick(): boolean {
    return this.classes.available;
  }

  /** Below the noise floor (meta.signal, tam_widget/display/signal.py): raw peak < floor x the answer's largest. */
  belowFloor(item: number): boolean {
    const s = this.meta.signal;
    return this.floor && Boolean(s) && item < (s?.strength.length ?? 0) && !(Number(s?.strength[item]) >= Number(s?.floor));
  }

  /** Whether the last layer is on show: meta.signal's noise floor describes the last layer's maps only. */
  private lastLayer(settings: Settings): boolean {
    const info = this.state.method.maps.layers;
    return !info || !info.kept.includes(Number(settings.layer)) || settings.layer === info.n - 1;
  }

  /** The map on show at item; `visible`: the frames (indices into meta.frames) the panels show, read first. */
  resolve(item: number, settings: Settings, pick: CandidatePick | null, visible: readonly number[] = []): ShownMap {
    const own = this.state.map(item, settings);
    const here = pick && pick.item === item ? pick : null;
    const picked = here && (here.b === null ? this.classes.classMap(item, here.a, settings) : this.classes.contrast(item, here.a, here.b, settings));
    const map = picked ?? own;
    const signed = Boolean(picked && here?.b !== null);
    const spreads = () => (signed ? maxAbs(map.image) * 2 >= FLAT_SPREAD : picked ? span(map.image) >= FLAT_SPREAD : this.spreads(own, visible));
    const flat = map.finite && ((!picked && this.belowFloor(item) && this.lastLayer(settings)) || !spreads());
    const facts = { item, finite: map.finite, flat, signed };
    const notice = this.notice(facts, picked !== null, picked ? undefined : own.notice);
    return {
      ...facts,
      params: own.params,
      get image() {
        return map.image; // read when asked for: the own map's frames are filtered as read (frame)
      },
      frame: picked ? undefined : own.frame,
      text: map.text,
      nText: map.nText,
      pick: picked ? here : null,
      notice,
    };
  }

  /** Whether the map's values spread at least FLAT_SPREAD: the frames on show first (their spread bounds the whole
   * map's from below), the whole map only when they do not. */
  private spreads(map: { readonly image: Float32Array; frame?(f: number): Float32Array }, visible: readonly number[]): boolean {
    const read = map.frame; // bound (MapState): reads one frame of the map
    let lo = Infinity;
    let hi = -Infinity;
    for (const f of visible) {
      const frame = this.meta.frames[f];
      if (read && frame) [lo, hi] = range(read(f), frame.offset, frame.offset + frame.height * frame.width, lo, hi);
    }
    return hi - lo >= FLAT_SPREAD || span(map.image) >= FLAT_SPREAD;
  }

  private notice(m: Pick<ShownMap, "item" | "finite" | "flat" | "signed">, picked: boolean, why?: string): string {
    if (!m.finite) return `Map n/a: the data of item ${m.item} hold NaN or infinite values (a float16 model may have overflowed).`;
    if (!m.flat) return "";
    if (why) return why; // the method has no map here (EAGLE: a token it did not explain)
    if (m.signed) return "No contrast: the two tokens' maps are the same here.";
    if (picked) return "No visual signal: this candidate's map is flat here.";
    return `No visual signal: ${JSON.stringify(this.meta.items[m.item]?.text ?? "")} did not look at the image (its map is flat or below the noise floor).`;
  }
}

function span(x: Float32Array): number {
  const [lo, hi] = range(x, 0, x.length, Infinity, -Infinity);
  return hi - lo;
}

/** The least and greatest of lo, hi and x[from .. to) (NaNs skipped). */
function range(x: Float32Array, from: number, to: number, lo: number, hi: number): [number, number] {
  for (let i = from; i < to; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  return [lo, hi];
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}
