/**
 * One rendered widget: decodes the data once (every method's), builds the views and redraws what a
 * trait change or a browser-only change (hover, video frame) affects. A `_data` still on its way (the
 * exported page's, pending.ts) is decoded when it comes: the tokens, pictures and controls show first.
 * The `method` trait picks the method on show (state/methods.ts). All maps are computed here, in the
 * page. Beside the map: details.ts; the decoder layers: layer-part.ts.
 */

import { decode, type WireMeta } from "./codec";
import type { WidgetModel } from "./model";
import { validItem } from "./state/derived";
import { methodInfo, MethodSwitch, type MethodView } from "./state/methods";
import { type Snapshot, snapshotOf } from "./state/shown";
import { type CandidatePick, LocalState } from "./state/local";
import { clamp, readSettings, type SyncedKey, TraitWriter } from "./state/synced";
import { toUnit } from "./views/candidates";
import { DIVERGING } from "./colormap";
import { Controls } from "./views/controls";
import { h } from "./views/dom";
import { HeatmapPanel } from "./views/heatmap";
import { ImageStore } from "./views/images";
import { relianceUnits } from "./views/reliance";
import { SignalStrip } from "./views/signal";
import { PanelLayout } from "./views/layout";
import { figureSpec, fileName, savePng } from "./views/save";
import { TokenView } from "./views/tokens";
import { TokenTooltip, tokenFacts } from "./views/tooltip";
import { HelpPopover } from "./views/help";
import { LOADING } from "./methods/streamed";
import { listenRows, RowStore } from "./stream";
import type { Bytes } from "./arrays";
import { isPending, pendingDecoded } from "./pending";
import { Details } from "./details";
import { LayerPart } from "./layer-part";

/** What a change requires: a new map (and everything), new colours only, or a new composition only. */
type Redraw = "map" | "colour" | "opacity";

const REDRAW: Record<SyncedKey, Redraw> = {
  method: "map", selected: "map", eci_scale: "map", eci: "map", filter: "map", group_words: "map", layer: "map",
  colormap: "colour", smooth: "colour", opacity: "opacity", show_original: "opacity",
};

export type { Snapshot } from "./state/shown";

/** What the page adds where a kernel answers it (whatif/host.ts). */
export interface AppOptions {
  continueWith?: (item: number, id: number) => void;
}

export class App {
  private readonly meta: WireMeta;
  private methods: MethodSwitch; // waits for a pending `_data` (pending.ts) until `ready`
  /** Resolves once the maps are decoded and drawn (at once unless `_data` was pending); rejects if they cannot be. */
  readonly ready: Promise<void>;
  private decoding: boolean; // a pending `_data` is not decoded yet
  private disposed = false;
  private readonly unit: Float32Array; // a contrast's values mapped to [0, 1] for the diverging table
  private readonly local: LocalState;
  private readonly writer: TraitWriter;
  private readonly images: ImageStore;
  private readonly tokens: TokenView;
  private readonly panels: HeatmapPanel[];
  private readonly layout: PanelLayout; // panel size (S/M/L/fit), browser-only
  private readonly details: Details; // legend, candidates, curves, diagnosis
  private readonly strip: SignalStrip;
  private readonly notice = h("p", { class: "tam-notice", role: "map-notice", attrs: { hidden: "" } });
  private readonly controls: Controls;
  private readonly tooltip: TokenTooltip;
  private readonly help = new HelpPopover();
  private readonly layers: LayerPart; // the decoder layer on show, its slider and strip
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
    const data: unknown = model.get("_data");
    this.decoding = isPending(data);
    this.methods = new MethodSwitch(isPending(data) ? pendingDecoded(this.meta) : decode(data as Bytes, this.meta, this.rows), this.meta, nv);
    this.unit = new Float32Array(nv);
    this.local = new LocalState(this.meta.views.length);
    const layerInfo = this.methods.view("tam").method.maps.layers ?? null; // TAM's decoder layers (null: the last only)
    this.writer = new TraitWriter(model, this.meta.items.length, this.methods.names, undefined, layerInfo?.kept ?? []);
    this.layers = new LayerPart(model, this.meta, layerInfo, this.writer);
    this.images = new ImageStore(model.get("_images") ?? [], () => this.compose());
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
    this.details = new Details(this.meta, actions);
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
    this.cleanups.push(listenRows(model, this.rows)); // a large explanation's rows from the kernel
    this.ready = isPending(data) ? Promise.resolve(data).then((bytes) => this.arrived(bytes, nv)) : Promise.resolve();
  }

  /** A pending `_data` came: decode it and draw the maps (once; nothing if the widget is gone). */
  private arrived(bytes: Bytes, nv: number): void {
    if (this.disposed) return;
    this.methods = new MethodSwitch(decode(bytes, this.meta, this.rows, true), this.meta, nv);
    this.decoding = false;
    this.redraw("map");
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
    const right = [this.tokens.el, this.tooltip.el, this.strip.el, ...this.details.els];
    const banner = this.details.banner;
    if (banner) root.append(banner);
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
    const map = view.maps.resolve(shown, readSettings(this.model), this.local.pick, this.panels.map((p) => p.frameIndex));
    this.waiting = map.notice === LOADING;
    const reliance = view.method.maps.reliance?.();
    this.tokens.update(this.selected, shown, map.text, map.finite ? map.nText : 0, reliance ? relianceUnits(reliance) : null);
    const state = { shown, pick: map.pick, colormap, caption: this.layers.caption(view), reliance: Boolean(reliance), anyPick: this.methods.anyPick, decoding: this.decoding };
    this.details.update(view, state, this.panels);
    this.strip.update(this.selected);
    this.layers.show(view, this.selected);
    this.showNotice(map.notice);
    const smooth = this.model.get("smooth") !== false;
    const unit = map.signed ? toUnit(map.image, this.unit) : null; // a contrast: diverging colours
    for (const p of this.panels) p.draw(unit ?? map.frame?.(p.frameIndex) ?? map.image, unit ? DIVERGING : colormap, opacity, map.finite && !map.flat, smooth);
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
    this.disposed = true;
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
