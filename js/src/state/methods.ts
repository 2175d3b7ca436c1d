// Derived state: which of the page's methods is on show (the synced `method` trait; the one the
// wire shows first when the trait names none the page holds), and each method's map state, made
// when the method is first shown. Nothing here is synced.

import type { Decoded, DecodedMethod, WireMeta } from "../codec";
import type { Settings } from "./synced";
import { MapState } from "./derived";
import { ShownMaps } from "./shown";

/** One method's decoded data and the state of its shown map. */
export interface MethodView {
  method: DecodedMethod;
  maps: ShownMaps;
}

/** What the controls show of a method: its names, what the settings compute, whether any setting matters. */
export interface MethodInfo {
  name: string;
  title: string;
  label: string;
  tunable: boolean; // its map depends on a view setting (TAM: ECI, filter)
  paper?: { url: string; title: string };
}

export class MethodSwitch {
  private readonly views = new Map<string, MethodView>();

  constructor(
    private readonly decoded: Decoded,
    private readonly meta: WireMeta,
    private readonly nv: number,
  ) {}

  /** The page's methods, in the wire's order. */
  get names(): string[] {
    return [...this.decoded.methods.keys()];
  }

  /** The method the trait names, or the wire's first when the page holds no such method. */
  name(trait: unknown): string {
    return typeof trait === "string" && this.decoded.methods.has(trait) ? trait : this.decoded.shown.name;
  }

  view(trait: unknown): MethodView {
    const name = this.name(trait);
    let view = this.views.get(name);
    if (!view) {
      const method = this.decoded.methods.get(name) ?? this.decoded.shown;
      view = { method, maps: new ShownMaps(new MapState(method), this.meta, this.nv) };
      this.views.set(name, view);
    }
    return view;
  }

  /** Whether any of the page's methods can show candidates' maps (TAM with candidate arrays). */
  get anyPick(): boolean {
    return this.names.some((n) => typeof this.decoded.methods.get(n)?.maps.classMap === "function");
  }
}

/** The controls' view of a method under the current settings. */
export function methodInfo(method: DecodedMethod, settings: Settings): MethodInfo {
  const { impl, maps } = method;
  const label = maps.label?.(settings) ?? impl.label(settings);
  return { name: method.name, title: impl.title, label, tunable: Object.keys(impl.params(settings)).length > 0, paper: impl.paper };
}
