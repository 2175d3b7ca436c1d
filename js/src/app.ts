/**
 * One rendered widget: decodes the data once, builds the views and redraws what a trait change
 * or a browser-only change (hover, video frame) affects. All maps are computed here, in the page.
 */

import { decode, type DecodedMethod, type WireMeta } from "./codec";
import type { Params } from "./methods";
import type { WidgetModel } from "./model";
import { MapState, validItem } from "./state/derived";
import { ShownMaps } from "./state/shown";
import { LocalState } from "./state/local";
import { clamp, readSettings, type SyncedKey, TraitWriter } from "./state/synced";
import { CandidatesView, toUnit } from "./views/candidates";
import { DIVERGING } from "./colormap";
import type { CandidatePick } from "./state/local";
import { Controls } from "./views/controls";
import { h } from "./views/dom";
import { HeatmapPanel } from "./views/heatmap";
import { ImageStore } from "./views/images";
import { Legend } from "./views/legend";
import { SignalStrip } from "./views/signal";
import { PanelLayout } from "./views/layout";
import { figureSpec, fileName, savePng } from "./views/save";
import { TokenView } from "./views/tokens";
import { TokenTooltip, tokenFacts } from "./views/tooltip";
import { HelpPopover } from "./views/help";

/** What a change requires: a new map (and everything), new colours only, or a new composition only. */
type Redraw = "map" | "colour" | "opacity";

const REDRAW: Record<SyncedKey, Redraw> = {
  selected: "map",
  eci_scale: "map",
  eci: "map",
  filter: "map",
  group_words: "map",
  colormap: "colour",
  smooth: "colour",
  opacity: "opacity",
  show_original: "opacity",
};

/** What `snapshot()` returns (tests and debugging read it through the root element's `tam`). */
export interface Snapshot {
  selected: number;
  shown: number;
  settings: Params; // what the map depends on (TAM: lambda, filter)
  image: number[]; // (n_v) in [0, 1]
  text: number[]; // relevance of the earlier items
  finite: boolean; // false: the item's data hold NaN or infinities, the map is shown as n/a (not drawn)
  flat: boolean; // no visual signal: below the noise floor or no spread; not drawn, said on the canvas
  pick: CandidatePick | null; // the candidate shown instead of the item's own map (b: a contrast, image signed)
}

export class App {
  private readonly meta: WireMeta;
  private readonly method: DecodedMethod;
  private readonly state: MapState;
  private readonly maps: ShownMaps;
  private readonly unit: Float32Array; // a contrast's values mapped to [0, 1] for the diverging table
  private readonly local: LocalState;
  private readonly writer: TraitWriter;
  private readonly images: ImageStore;
  private readonly tokens: TokenView;
  private readonly panels: HeatmapPanel[];
  private readonly layout: PanelLayout; // panel size (S/M/L/fit), browser-only
  private readonly candidates: CandidatesView;
  private readonly strip: SignalStrip;
  private readonly legend = new Legend();
  private readonly notice = h("p", { class: "tam-notice", role: "map-notice", attrs: { hidden: "" } });
  private readonly controls: Controls;
  private readonly tooltip: TokenTooltip;
  private readonly help = new HelpPopover();
  private readonly cleanups: (() => void)[] = [];
  private grouped: boolean | null = null;

  constructor(
    private readonly model: WidgetModel,
    root: HTMLElement,
  ) {
    this.meta = model.get("_meta");
    this.method = decode(model.get("_data"), this.meta).shown;
    this.state = new MapState(this.method);
    const nv = this.meta.frames.reduce((n, f) => n + f.height * f.width, 0);
    this.maps = new ShownMaps(this.state, this.meta, nv);
    this.unit = new Float32Array(nv);
    this.local = new LocalState(this.meta.views.length);
    this.writer = new TraitWriter(model, this.meta.items.length);
    this.images = new ImageStore(model.get("_images") ?? [], () => this.compose());
    const pick = {
      select: (item: number) => this.writer.set("selected", item),
      hover: (item: number | null) => this.local.setHover(item),
    };
    this.tokens = new TokenView(this.meta.items, pick, (item) => this.belowFloor(item));
    this.strip = new SignalStrip(this.meta, pick);
    this.panels = this.meta.views.map((view, i) => {
      const image = this.meta.images[view.image] ?? { first: 0, frames: 1, height: 1, width: 1 };
      return new HeatmapPanel(view, i, image, this.meta.frames, this.local, this.images);
    });
    this.candidates = new CandidatesView(this.meta, { pick: (p) => this.local.setPick(p) }, this.maps.canPick);
    this.controls = new Controls(model, this.writer, { save: () => this.save(), label: (s) => this.method.impl.label(s) }, [this.help.el]);
    this.tooltip = new TokenTooltip(this.tokens.el, (item) => tokenFacts(this.meta, this.method.maps, item));
    // the notice lies over the panels: showing it moves nothing (a hovered token stays under the pointer)
    const area = h("div", { class: "tam-panels" }, [...this.panels.map((p) => p.el), this.notice]);
    const left = h("div", { class: "tam-left" }, [area]);
    this.layout = new PanelLayout(this.panels, left, area);
    left.append(this.layout.el, this.controls.el);
    root.append(
      h("div", { class: "tam-main" }, [
        left,
        h("div", { class: "tam-right" }, [this.tokens.el, this.tooltip.el, this.strip.el, this.legend.el, this.candidates.el]),
      ]),
    );
    for (const key of Object.keys(REDRAW) as SyncedKey[]) {
      const fn = () => this.redraw(REDRAW[key]);
      model.on(`change:${key}`, fn);
      this.cleanups.push(() => model.off(`change:${key}`, fn));
    }
    this.cleanups.push(this.local.subscribe(() => this.redraw("map")));
    const unpick = () => this.local.setPick(null); // a pick belongs to the item it was made at
    model.on("change:selected", unpick);
    this.cleanups.push(() => model.off("change:selected", unpick));
    this.redraw("map");
  }

  /** The item on show: the hovered one while the pointer rests on a token, else the selected one. */
  private get shown(): number {
    return this.local.hover ?? this.selected;
  }

  private get selected(): number {
    return validItem(this.model.get("selected"), this.meta);
  }

  private redraw(what: Redraw): void {
    const colormap = String(this.model.get("colormap"));
    const opacity = clamp(Number(this.model.get("opacity")), 0, 1);
    this.controls.update();
    const original = Boolean(this.model.get("show_original"));
    this.layout.setOriginal(original);
    if (what === "opacity") return this.compose(opacity);
    const group = Boolean(this.model.get("group_words"));
    if (group !== this.grouped) {
      this.tokens.render(group);
      this.grouped = group;
    }
    const shown = this.shown;
    const map = this.maps.resolve(shown, readSettings(this.model), this.local.pick);
    this.tokens.update(this.selected, shown, map.text, map.finite ? map.nText : 0, colormap);
    this.legend.update(colormap);
    this.candidates.update(shown, map.pick);
    this.strip.update(this.selected);
    this.showNotice(map.notice);
    const smooth = this.model.get("smooth") !== false;
    const [image, colours] = map.signed ? [toUnit(map.image, this.unit), DIVERGING] : [map.image, colormap];
    for (const p of this.panels) p.draw(image, colours, opacity, map.finite && !map.flat, smooth);
  }

  /** Below the noise floor (meta.signal, tam_widget/display/signal.py): raw peak < floor x the answer's largest. */
  private belowFloor(item: number): boolean {
    return this.maps.belowFloor(item);
  }

  private showNotice(text: string): void {
    if (this.notice.textContent !== text) this.notice.textContent = text;
    this.notice.hidden = text === "";
  }

  /** The shown item's map as plain numbers: what the canvas and the text colours are drawn from. */
  snapshot(): Snapshot {
    const shown = this.shown;
    const map = this.maps.resolve(shown, readSettings(this.model), this.local.pick);
    return {
      selected: this.selected,
      shown,
      settings: { ...map.params },
      image: Array.from(map.image),
      text: Array.from(map.text),
      finite: map.finite,
      flat: map.flat,
      pick: map.pick && { ...map.pick },
    };
  }

  dispose(): void {
    for (const fn of this.cleanups) fn();
    this.writer.dispose();
    this.tokens.dispose();
    this.strip.dispose();
    this.controls.dispose();
    this.tooltip.dispose();
    this.help.dispose();
    this.images.dispose();
    this.layout.dispose();
  }

  private compose(opacity?: number): void {
    for (const p of this.panels) p.compose(opacity);
  }

  private save(): void {
    const item = this.shown;
    const label = this.method.impl.label(readSettings(this.model));
    savePng(figureSpec(this.meta.items, item, label, this.panels), fileName(item, this.meta.items[item]?.text ?? ""));
  }
}
