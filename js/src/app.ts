/**
 * One rendered widget: decodes the data once (every method's), builds the views and redraws what a
 * trait change or a browser-only change (hover, video frame) affects. The `method` trait picks the
 * method on show (state/methods.ts). All maps are computed here, in the page.
 */

import { decode, type WireMeta } from "./codec";
import type { WidgetModel } from "./model";
import { validItem } from "./state/derived";
import { methodInfo, MethodSwitch, type MethodView } from "./state/methods";
import { type Snapshot, snapshotOf } from "./state/shown";
import { LocalState } from "./state/local";
import { clamp, readSettings, type SyncedKey, TraitWriter } from "./state/synced";
import { CandidatesView, toUnit } from "./views/candidates";
import { DIVERGING } from "./colormap";
import type { CandidatePick } from "./state/local";
import { Controls } from "./views/controls";
import { CurvesView } from "./views/curves";
import { curveMarker, DiagnosisBanner, outlinedCells } from "./views/diagnosis";
import { h } from "./views/dom";
import { HeatmapPanel } from "./views/heatmap";
import { ImageStore } from "./views/images";
import { ACTIVATION, Legend } from "./views/legend";
import { relianceUnits } from "./views/reliance";
import { SignalStrip } from "./views/signal";
import { PanelLayout } from "./views/layout";
import { figureSpec, fileName, savePng } from "./views/save";
import { TokenView } from "./views/tokens";
import { TokenTooltip, tokenFacts } from "./views/tooltip";
import { HelpPopover } from "./views/help";
import { LayerView } from "./views/layers";
import type { LayerInfo } from "./methods/tam-layers";
import { LOADING } from "./methods/streamed";
import { RowStore } from "./stream";

/** What a change requires: a new map (and everything), new colours only, or a new composition only. */
type Redraw = "map" | "colour" | "opacity";

const REDRAW: Record<SyncedKey, Redraw> = {
  method: "map",
  selected: "map",
  eci_scale: "map",
  eci: "map",
  filter: "map",
  group_words: "map",
  colormap: "colour",
  smooth: "colour",
  opacity: "opacity",
  show_original: "opacity",
  layer: "map",
};

export type { Snapshot } from "./state/shown";

/** What the page adds where a kernel answers it (whatif/host.ts). */
export interface AppOptions {
  continueWith?: (item: number, id: number) => void;
}

export class App {
  private readonly meta: WireMeta;
  private readonly methods: MethodSwitch;
  private readonly unit: Float32Array; // a contrast's values mapped to [0, 1] for the diverging table
  private readonly local: LocalState;
  private readonly writer: TraitWriter;
  private readonly images: ImageStore;
  private readonly tokens: TokenView;
  private readonly panels: HeatmapPanel[];
  private readonly layout: PanelLayout; // panel size (S/M/L/fit), browser-only
  private readonly candidates: CandidatesView[]; // [with candidate maps, without]: one shows, by the method on show
  private readonly tamOnly = h("p", { class: "tam-muted tam-candidates-hint", role: "candidates-tam-only", text: "Candidate maps and contrasts: TAM only.", attrs: { hidden: "" } });
  private readonly curves = new CurvesView();
  private readonly diagnosis: { banner: DiagnosisBanner; cells: Uint8Array } | null; // meta.diagnosis, shown over EAGLE
  private readonly strip: SignalStrip;
  private readonly legend = new Legend();
  private readonly notice = h("p", { class: "tam-notice", role: "map-notice", attrs: { hidden: "" } });
  private readonly controls: Controls;
  private readonly tooltip: TokenTooltip;
  private readonly help = new HelpPopover();
  private readonly layerInfo: LayerInfo | null; // TAM's decoder layers (null: the last only)
  private readonly layers: LayerView;
  private readonly cleanups: (() => void)[] = [];
  private rendered = ""; // the word grouping and method the tokens were built for
  private readonly rows: RowStore; // a large explanation's big arrays, streamed from the kernel
  private waiting = false; // the map on show waits for rows from the kernel

  constructor(
    private readonly model: WidgetModel,
    root: HTMLElement,
    options: AppOptions = {},
  ) {
    this.meta = model.get("_meta");
    const nv = this.meta.frames.reduce((n, f) => n + f.height * f.width, 0);
    this.rows = new RowStore((msg) => model.send(msg), () => this.onRows());
    this.methods = new MethodSwitch(decode(model.get("_data"), this.meta, this.rows), this.meta, nv);
    this.unit = new Float32Array(nv);
    this.local = new LocalState(this.meta.views.length);
    this.layerInfo = this.methods.view("tam").method.maps.layers ?? null;
    this.writer = new TraitWriter(model, this.meta.items.length, this.methods.names, undefined, this.layerInfo?.kept ?? []);
    this.layers = new LayerView(this.layerInfo, { set: (layer, debounce) => this.writer.set("layer", layer, { debounce }), flush: () => this.writer.flush() });
    this.images = new ImageStore(model.get("_images") ?? [], () => this.compose());
    const d = this.meta.diagnosis;
    this.diagnosis = d ? { banner: new DiagnosisBanner(d), cells: outlinedCells(d.removed) } : null;
    const pick = {
      select: (item: number) => this.writer.set("selected", item),
      hover: (item: number | null) => this.local.setHover(item),
    };
    this.tokens = new TokenView(this.meta.items, pick, (item) => this.view.maps.belowFloor(item));
    this.strip = new SignalStrip(this.meta, pick);
    this.panels = this.meta.views.map((view, i) => {
      const image = this.meta.images[view.image] ?? { first: 0, frames: 1, height: 1, width: 1 };
      return new HeatmapPanel(view, i, image, this.meta.frames, this.local, this.images);
    });
    const actions = { pick: (p: CandidatePick | null) => this.local.setPick(p), continueWith: options.continueWith };
    this.candidates = [true, false].map((live) => new CandidatesView(this.meta, actions, live));
    const titles = this.methods.names.map((name) => ({ name, title: this.methods.view(name).method.impl.title }));
    this.controls = new Controls(model, this.writer, { save: () => this.save(), method: () => methodInfo(this.view.method, readSettings(model)) }, [this.help.el], titles);
    this.tooltip = new TokenTooltip(this.tokens.el, (item) => tokenFacts(this.meta, this.view.method.maps, item, this.view.method.impl.signal !== false, this.view.method.impl.params(readSettings(model))));
    this.layout = this.build(root);
    for (const key of Object.keys(REDRAW) as SyncedKey[]) this.listen(`change:${key}`, () => this.redraw(REDRAW[key]));
    this.cleanups.push(this.local.subscribe(() => this.redraw("map")));
    const unpick = () => this.local.setPick(null); // a pick belongs to the item (and method) it was made at
    this.listen("change:selected", unpick);
    this.listen("change:method", unpick);
    this.redraw("map");
    this.streamRows();
  }

  /** A large explanation's rows from the kernel (stream.ts): replies taken as they come, the rest asked for in the background. */
  private streamRows(): void {
    if (!this.rows.active) return;
    const take = (msg: unknown, buffers?: readonly DataView[]) => void this.rows.receive(msg, buffers ?? []);
    this.model.on("msg:custom", take);
    this.cleanups.push(() => this.model.off("msg:custom", take));
    this.rows.prefetch();
  }

  /** Rows arrived: redraw if the map on show was waiting for them. */
  private onRows(): void {
    if (this.waiting) this.redraw("map");
  }

  private build(root: HTMLElement): PanelLayout {
    // the notice lies over the panels: showing it moves nothing (a hovered token stays under the pointer)
    const area = h("div", { class: "tam-panels" }, [...this.panels.map((p) => p.el), this.notice]);
    const left = h("div", { class: "tam-left" }, [area]);
    const layout = new PanelLayout(this.panels, left, area);
    left.append(layout.el, this.layers.el, this.controls.el);
    const right = [this.tokens.el, this.tooltip.el, this.strip.el, this.legend.el, ...this.candidates.map((c) => c.el), this.tamOnly, this.curves.el];
    if (this.diagnosis) root.append(this.diagnosis.banner.el);
    root.append(h("div", { class: "tam-main" }, [left, h("div", { class: "tam-right" }, right)]));
    return layout;
  }

  private listen(event: string, fn: () => void): void {
    this.model.on(event, fn);
    this.cleanups.push(() => this.model.off(event, fn));
  }

  /** The method on show (the `method` trait) and its map state. */
  private get view(): MethodView {
    return this.methods.view(this.model.get("method"));
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
    this.layout.setOriginal(Boolean(this.model.get("show_original")));
    if (what === "opacity") return this.compose(opacity);
    const view = this.view;
    this.renderTokens(view);
    const shown = this.shown;
    const map = view.maps.resolve(shown, readSettings(this.model), this.local.pick);
    this.waiting = map.notice === LOADING;
    const reliance = view.method.maps.reliance?.();
    this.tokens.update(this.selected, shown, map.text, map.finite ? map.nText : 0, reliance ? relianceUnits(reliance) : null);
    this.legend.update(colormap, { caption: view.method.maps.caption?.() ?? this.layerCaption(view), reliance: Boolean(reliance) });
    this.showCandidates(view, shown, map.pick);
    const diagnosed = this.diagnosis !== null && view.method.name === "eagle"; // the diagnosis is EAGLE's
    const d = this.meta.diagnosis;
    const mark = diagnosed && d && shown === d.item ? curveMarker(d) : null;
    this.curves.update(view.method.impl.title, shown, view.method.maps.curves ? view.method.maps.curves(shown) : undefined, this.meta.items[shown]?.text ?? "", mark);
    if (this.diagnosis) {
      this.diagnosis.banner.show(diagnosed);
      for (const p of this.panels) p.setOutline(diagnosed ? this.diagnosis.cells : null);
    }
    this.strip.update(this.selected);
    this.showLayers(view);
    this.showNotice(map.notice);
    const smooth = this.model.get("smooth") !== false;
    const [image, colours] = map.signed ? [toUnit(map.image, this.unit), DIVERGING] : [map.image, colormap];
    for (const p of this.panels) p.draw(image, colours, opacity, map.finite && !map.flat, smooth);
  }

  /** (Re)build the tokens when the word grouping or the method changed (a method's noise floor mutes tokens). */
  private renderTokens(view: MethodView): void {
    const group = Boolean(this.model.get("group_words"));
    const key = `${group}|${view.method.name}`;
    if (key === this.rendered) return;
    this.tokens.render(group);
    this.rendered = key;
    this.strip.el.hidden = !this.meta.signal || this.meta.n_answer === 0 || view.method.impl.signal === false; // the strip is TAM's signal
  }

  /** The candidates, as buttons when the shown method has candidate maps; a note when only another method has. */
  private showCandidates(view: MethodView, item: number, pick: CandidatePick | null): void {
    const live = view.maps.canPick;
    this.candidates.forEach((c, i) => (c.el.hidden = live !== (i === 0)));
    this.candidates[live ? 0 : 1].update(item, pick);
    this.tamOnly.hidden = live || !this.methods.anyPick;
  }

  /** The layer slider and strip for the selected item; shown while a method with layers (TAM) is. */
  private showLayers(view: MethodView): void {
    const maps = view.method.maps;
    this.layers.el.hidden = !maps.layers || maps.layers.kept.length < 2;
    const item = this.selected;
    this.layers.update(this.layer, maps.layerPeaks?.(item) ?? new Float32Array(0), this.meta.items[item]?.text ?? "");
  }

  /** The shown layer: the trait when it names a kept layer, else the last. */
  private get layer(): number {
    const info = this.layerInfo;
    const layer = Number(this.model.get("layer"));
    return info ? (info.kept.includes(layer) ? layer : info.n - 1) : -1;
  }

  /** The legend's caption: the activation, and at which layer on a page with several. */
  private layerCaption(view: MethodView): string {
    const info = view.method.maps.layers;
    return info ? `${ACTIVATION}, layer ${this.layer} / ${info.n}` : ACTIVATION;
  }

  private showNotice(text: string): void {
    if (this.notice.textContent !== text) this.notice.textContent = text;
    this.notice.hidden = text === "";
  }

  /** The shown item's map as plain numbers: what the canvas and the text colours are drawn from. */
  snapshot(): Snapshot {
    const view = this.view;
    return snapshotOf(view.method.name, this.selected, view.maps.resolve(this.shown, readSettings(this.model), this.local.pick));
  }

  dispose(): void {
    for (const fn of this.cleanups) fn();
    this.writer.dispose();
    this.tokens.dispose();
    this.strip.dispose();
    this.controls.dispose();
    this.tooltip.dispose();
    this.help.dispose();
    this.layers.dispose();
    this.images.dispose();
    this.layout.dispose();
    for (const name of this.methods.names) this.methods.view(name).method.maps.dispose?.(); // idle precompute stops
  }

  private compose(opacity?: number): void {
    for (const p of this.panels) p.compose(opacity);
  }

  private save(): void {
    const item = this.shown;
    const label = methodInfo(this.view.method, readSettings(this.model)).label;
    savePng(figureSpec(this.meta.items, item, label, this.panels), fileName(item, this.meta.items[item]?.text ?? ""));
  }
}
