/**
 * The ECI slider, the ECI / filter / word-grouping toggles, opacity, smooth / blocky, the original
 * image, colour map and "save PNG".
 * Inputs write the small synced traits; update() reflects the traits back into the inputs.
 */

import { COLORMAP_NAMES } from "../colormap";
import type { Model, WidgetModel } from "../model";
import { readSettings, type Settings, type SyncedKey, type TraitWriter } from "../state/synced";
import { h, labelled } from "./dom";
import { paperLink } from "./help";

function range(role: string, min: number, max: number, step: number, label: string): HTMLInputElement {
  return h("input", { role, attrs: { type: "range", min: String(min), max: String(max), step: String(step), "aria-label": label } });
}

function checkbox(role: string): HTMLInputElement {
  return h("input", { role, attrs: { type: "checkbox" } });
}

export class Controls {
  readonly el: HTMLElement;
  private readonly scale = range("eci-scale", 0, 2, 0.01, "ECI scale λ");
  private readonly scaleValue = h("output", { class: "tam-value", role: "eci-scale-value" });
  private readonly eci = checkbox("eci");
  private readonly filter = checkbox("filter");
  private readonly groupWords = checkbox("group-words");
  private readonly smooth = checkbox("smooth");
  private readonly showOriginal = checkbox("show-original");
  private readonly opacity = range("opacity", 0, 1, 0.01, "Opacity");
  private readonly colormap = h("select", { role: "colormap", attrs: { "aria-label": "Colour map" } });
  private readonly save = h("button", { role: "save-png", text: "Save PNG", attrs: { type: "button" } });
  // the method's name links to the paper (TAM, Li et al., ICCV 2025)
  private readonly method = paperLink("", "method", "tam-method");
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly model: WidgetModel,
    writer: TraitWriter,
    private readonly on: { save: () => void; label: (settings: Settings) => string },
    extra: Node[] = [], // beside the method's name (the help button)
  ) {
    this.method.title = "Token Activation Map (Li et al., ICCV 2025): the paper";
    for (const name of COLORMAP_NAMES) this.colormap.appendChild(h("option", { text: name, attrs: { value: name } }));
    const listen = (node: HTMLElement, type: string, fn: () => void) => {
      node.addEventListener(type, fn);
      this.cleanups.push(() => node.removeEventListener(type, fn));
    };
    // Dragging saves at most every few frames; releasing the slider saves at once.
    listen(this.scale, "input", () => writer.set("eci_scale", Number(this.scale.value), { debounce: true }));
    listen(this.scale, "change", () => writer.flush());
    listen(this.opacity, "input", () => writer.set("opacity", Number(this.opacity.value), { debounce: true }));
    listen(this.opacity, "change", () => writer.flush());
    const toggle = (node: HTMLInputElement, key: "eci" | "filter" | "group_words" | "smooth" | "show_original") =>
      listen(node, "change", () => writer.set(key, node.checked));
    toggle(this.eci, "eci");
    toggle(this.filter, "filter");
    toggle(this.groupWords, "group_words");
    toggle(this.smooth, "smooth");
    toggle(this.showOriginal, "show_original");
    listen(this.colormap, "change", () => writer.set("colormap", this.colormap.value as Model["colormap"]));
    listen(this.save, "click", on.save);
    this.el = h("div", { class: "tam-controls", role: "controls" }, [
      h("div", { class: "tam-method-row" }, [this.method, ...extra]),
      labelled("ECI scale λ", this.scale, [this.scaleValue]),
      h("div", { class: "tam-toggles" }, [labelled("ECI", this.eci), labelled("filter", this.filter), labelled("words", this.groupWords)]),
      labelled("opacity", this.opacity),
      h("div", { class: "tam-toggles" }, [labelled("smooth", this.smooth), labelled("original", this.showOriginal)]),
      labelled("colours", this.colormap),
      this.save,
    ]);
  }

  /** Show the traits' current values (after a change from Python or from another view of the model). */
  update(): void {
    const get = <K extends SyncedKey>(k: K) => this.model.get(k);
    const scale = Number(get("eci_scale"));
    setValue(this.scale, String(scale));
    this.scaleValue.textContent = scale.toFixed(2);
    this.scale.disabled = !get("eci");
    this.eci.checked = Boolean(get("eci"));
    this.filter.checked = Boolean(get("filter"));
    this.groupWords.checked = Boolean(get("group_words"));
    this.smooth.checked = Boolean(get("smooth"));
    this.showOriginal.checked = Boolean(get("show_original"));
    setValue(this.opacity, String(get("opacity")));
    setValue(this.colormap, String(get("colormap")));
    this.method.textContent = this.on.label(readSettings(this.model));
  }

  dispose(): void {
    for (const fn of this.cleanups) fn();
  }
}

function setValue(node: HTMLInputElement | HTMLSelectElement, value: string): void {
  if (node.value !== value) node.value = value;
}
