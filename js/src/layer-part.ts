/**
 * The App's decoder-layer part (TAM with layers kept, explain(..., layers=...)): the slider and strip
 * for the selected item, the layer on show (the `layer` trait when it names a kept layer, else the
 * last) and the legend's caption that names it.
 */

import type { WireMeta } from "./codec";
import type { LayerInfo } from "./methods/tam-layers";
import type { WidgetModel } from "./model";
import type { MethodView } from "./state/methods";
import type { TraitWriter } from "./state/synced";
import { LayerView } from "./views/layers";
import { ACTIVATION } from "./views/legend";

export class LayerPart {
  private readonly view: LayerView;

  constructor(
    private readonly model: WidgetModel,
    private readonly meta: WireMeta,
    private readonly info: LayerInfo | null, // TAM's decoder layers (null: the last only)
    writer: TraitWriter,
  ) {
    this.view = new LayerView(info, { set: (layer, debounce) => writer.set("layer", layer, { debounce }), flush: () => writer.flush() });
  }

  get el(): HTMLElement {
    return this.view.el;
  }

  /** The shown layer: the trait when it names a kept layer, else the last. */
  get layer(): number {
    const info = this.info;
    const layer = Number(this.model.get("layer"));
    return info ? (info.kept.includes(layer) ? layer : info.n - 1) : -1;
  }

  /** The legend's caption: the activation, and at which layer on a page with several. */
  caption(view: MethodView): string {
    const info = view.method.maps.layers;
    return info ? `${ACTIVATION}, layer ${this.layer} / ${info.n}` : ACTIVATION;
  }

  /** The slider and strip for `item`; shown while a method with layers (TAM) is. */
  show(view: MethodView, item: number): void {
    const maps = view.method.maps;
    this.view.el.hidden = !maps.layers || maps.layers.kept.length < 2;
    this.view.update(this.layer, maps.layerPeaks?.(item) ?? new Float32Array(0), this.meta.items[item]?.text ?? "");
  }

  dispose(): void {
    this.view.dispose();
  }
}
