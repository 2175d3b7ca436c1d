/**
 * The method switch (when the explanation holds several), the ECI slider, the ECI / filter /
 * word-grouping toggles, opacity, smooth / blocky, the original image, colour map and "save PNG".
 * Inputs write the small synced traits; update() reflects the traits back into the inputs. A
 * method whose map depends on no setting (EAGLE) greys out TAM's.
 */

import { COLORMAP_NAMES } from "../colormap";
import type { Model, WidgetModel } from "../model";
import type { MethodInfo } from "../state/methods";
import type { SyncedKey, TraitWriter } from "../state/synced";
import { h, labelled } from "./dom";
import { PAPER_URL, paperLink } from "./help";

const TAM_PAPER = { url: PAPER_URL, title: "Token Activation Map (Li et al., ICCV 2025): the paper" };

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
  // the method's name links to its paper (TAM, Li et al., ICCV 2025; EAGLE, Chen et al., CVPR 2026)
  private readonly method = paperLink("", "method", "tam-method");
  private readonly choices: HTMLButtonElement[];
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly model: WidgetModel,
    writer: TraitWriter,
    private readonly on: { save: () => void; method: () => MethodInfo },
    extra: Node[] = [], // beside the method's name (the help button)
    methods: { name: string; title: string }[] = [], // the explanation's methods: a switch when there are several
  ) {
    this.choices = methods.length > 1 ? methods.map((m) => this.choice(m, writer)) : [];
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
    const group = { role: "group", "aria-label": "Method" };
    const choices = this.choices.length ? [h("div", { class: "tam-method-switch", role: "method-switch", attrs: group }, [h("span", { class: "tam-control-label", text: "Method" }), ...this.choices])] : [];
    this.el = h("div", { class: "tam-controls", role: "controls" }, [
      ...choices,
      h("div", { class: "tam-method-row" }, [this.method, ...extra]),
      labelled("ECI scale λ", this.scale, [this.scaleValue]),
      h("div", { class: "tam-toggles" }, [labelled("ECI", this.eci), labelled("filter", this.filter), labelled("words", this.groupWords)]),
      labelled("opacity", this.opacity),
      h("div", { class: "tam-toggles" }, [labelled("smooth", this.smooth), labelled("original", this.showOriginal)]),
      labelled("colours", this.colormap),
      this.save,
    ]);
  }

  /** One button of the method switch: a segment pressed while its method is shown. */
  private choice(m: { name: string; title: string }, writer: TraitWriter): HTMLButtonElement {
    const b = h("button", { class: "tam-method-choice", role: "method-choice", text: m.title, attrs: { type: "button", "data-method": m.name, "aria-pressed": "false" } });
    const fn = () => writer.set("method", m.name);
    b.addEventListener("click", fn);
    this.cleanups.push(() => b.removeEventListener("click", fn));
    return b;
  }

  /** Show the traits' current values (after a change from Python or from another view of the model). */
  update(): void {
    const get = <K extends SyncedKey>(k: K) => this.model.get(k);
    const info = this.on.method();
    const scale = Number(get("eci_scale"));
    setValue(this.scale, String(scale));
    setText(this.scaleValue, scale.toFixed(2)); // unchanged text is not written: no relayout on a token switch
    this.scale.disabled = !get("eci") || !info.tunable;
    this.eci.disabled = this.filter.disabled = !info.tunable;
    this.eci.checked = Boolean(get("eci"));
    this.filter.checked = Boolean(get("filter"));
    this.groupWords.checked = Boolean(get("group_words"));
    this.smooth.checked = Boolean(get("smooth"));
    this.showOriginal.checked = Boolean(get("show_original"));
    setValue(this.opacity, String(get("opacity")));
    setValue(this.colormap, String(get("colormap")));
    this.showMethod(info);
  }

  private showMethod(info: MethodInfo): void {
    setText(this.method, info.label);
    const paper = info.paper ?? TAM_PAPER;
    if (this.method.getAttribute("href") !== paper.url) this.method.href = paper.url;
    if (this.method.title !== paper.title) this.method.title = paper.title;
    for (const b of this.choices) b.setAttribute("aria-pressed", String(b.dataset.method === info.name));
    const why = info.tunable ? "" : `${info.title}'s map depends on no setting`;
    for (const input of [this.scale, this.eci, this.filter]) if (input.title !== why) input.title = why;
  }

  dispose(): void {
    for (const fn of this.cleanups) fn();
  }
}

function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

function setValue(node: HTMLInputElement | HTMLSelectElement, value: string): void {
  if (node.value !== value) node.value = value;
}
