/**
 * The shown token's faithfulness curves (MethodMaps.curves; EAGLE, spec §2.4) as a small inline
 * SVG: the insertion curve from (0, p with a black image) as the most important regions are shown
 * one by one, the deletion curve from (1, p with the full image) as they are blacked out, both
 * over the share of the image shown, with the means over every explained token faint behind and
 * each curve's area (trapezoid) in the key. The curves are drawn in a unit viewBox, so a
 * polyline's points are (x, 1 - y) of the data.
 */

import type { Curve, ItemCurves } from "../methods";
import { h } from "./dom";

const NS = "http://www.w3.org/2000/svg";
const BOX = { left: 34, top: 8, width: 196, height: 104 }; // the plot area in the SVG's pixels
const SIZE = { width: 240, height: 150 };

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, children: Node[] = []): SVGElementTagNameMap[K] {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.appendChild(c);
  return node;
}

function text(x: number, y: number, value: string, attrs: Record<string, string | number> = {}): SVGTextElement {
  const node = svg("text", { x, y, ...attrs });
  node.textContent = value;
  return node;
}

/** The polyline points of a curve in the unit viewBox: "x,1-y" pairs. */
export function curvePoints(c: Curve): string {
  return c.x.map((x, i) => `${x.toFixed(4)},${(1 - c.y[i]).toFixed(4)}`).join(" ");
}

function line(c: Curve, cls: string, role: string): SVGPolylineElement {
  return svg("polyline", { class: cls, "data-role": role, points: curvePoints(c), fill: "none", "vector-effect": "non-scaling-stroke" });
}

/** Axes with ticks at 0, 0.5 and 1, and their titles. */
function axes(): SVGElement[] {
  const { left, top, width, height } = BOX;
  const out: SVGElement[] = [svg("path", { class: "tam-curves-axis", d: `M${left},${top}V${top + height}H${left + width}`, fill: "none" })];
  for (const v of [0, 0.5, 1]) {
    out.push(text(left + v * width, top + height + 12, String(v), { "text-anchor": "middle" }));
    out.push(text(left - 4, top + (1 - v) * height + 3, String(v), { "text-anchor": "end" }));
  }
  out.push(text(left + width / 2, SIZE.height - 4, "share of the image shown", { "text-anchor": "middle" }));
  out.push(text(10, top + height / 2, "probability", { "text-anchor": "middle", transform: `rotate(-90 10 ${top + height / 2})` }));
  return out;
}

/** A marked share of the image shown (a diagnosis's cut): a vertical line and its label. */
export interface CurveMarker {
  x: number; // in [0, 1], the share of the image shown
  label: string;
  reads?: string; // the token whose probability the curves are (a diagnosis's correct word), when not the item's own
}

function marker(m: CurveMarker): SVGElement {
  const { left, top, width, height } = BOX;
  const x = left + Math.min(1, Math.max(0, m.x)) * width;
  const right = x + 4 + m.label.length * 5.5 < left + width;
  const label = text(right ? x + 3 : x - 3, top + 9, m.label, { "text-anchor": right ? "start" : "end", class: "tam-curves-marker-label" });
  return svg("g", { class: "tam-curves-marker", "data-role": "curve-marker", "data-x": m.x.toFixed(6) }, [
    svg("line", { x1: x, x2: x, y1: top, y2: top + height }),
    label,
  ]);
}

function plot(c: ItemCurves, mark: CurveMarker | null): SVGSVGElement {
  const { left, top, width, height } = BOX;
  const data = svg("svg", { x: left, y: top, width, height, viewBox: "0 0 1 1", preserveAspectRatio: "none", overflow: "visible" }, [
    line(c.meanInsertion, "tam-curve-insertion is-mean", "curve-mean-insertion"),
    line(c.meanDeletion, "tam-curve-deletion is-mean", "curve-mean-deletion"),
    line(c.insertion, "tam-curve-insertion", "curve-insertion"),
    line(c.deletion, "tam-curve-deletion", "curve-deletion"),
  ]);
  const label = `Insertion and deletion curves: areas ${c.insertion.auc.toFixed(3)} and ${c.deletion.auc.toFixed(3)}`;
  const extra = mark ? [marker(mark)] : [];
  return svg("svg", { class: "tam-curves-plot", width: SIZE.width, height: SIZE.height, viewBox: `0 0 ${SIZE.width} ${SIZE.height}`, role: "img", "aria-label": label }, [...axes(), data, ...extra]);
}

function keyRow(cls: string, role: string, name: string, auc: number, mean: number): HTMLElement {
  return h("div", { class: "tam-curves-key-row" }, [
    h("span", { class: `tam-curves-swatch ${cls}` }),
    h("span", { text: `${name} AUC ` }),
    h("strong", { role, text: auc.toFixed(3) }),
    h("span", { class: "tam-muted", text: ` (mean ${mean.toFixed(3)})` }),
  ]);
}

function key(c: ItemCurves): HTMLElement {
  return h("div", { class: "tam-curves-key" }, [
    keyRow("tam-curve-insertion", "curve-auc-insertion", "insertion", c.insertion.auc, c.meanInsertion.auc),
    keyRow("tam-curve-deletion", "curve-auc-deletion", "deletion", c.deletion.auc, c.meanDeletion.auc),
    h("p", { class: "tam-muted", text: "Most important regions first: shown (insertion, from the left) or blacked out (deletion, from the right). Faint: the mean over the explained tokens." }),
  ]);
}

export class CurvesView {
  readonly el: HTMLElement;
  private readonly title = h("h4", { text: "Faithfulness curves" });
  private readonly body = h("div", { class: "tam-curves-body" });
  private shown = "";

  constructor() {
    this.el = h("section", { class: "tam-curves", role: "curves", attrs: { hidden: "" } }, [this.title, this.body]);
  }

  /** The item's curves; undefined: the method has none (hidden); null: the method did not explain the item.
   * `mark`: a share of the image shown to mark (a diagnosis's cut), or null. */
  update(method: string, item: number, curves: ItemCurves | null | undefined, word: string, mark: CurveMarker | null = null): void {
    this.el.hidden = curves === undefined;
    const shown = `${method}|${item}|${curves === null}|${mark?.x ?? ""}|${mark?.reads ?? ""}`;
    if (curves === undefined || shown === this.shown) return;
    this.shown = shown;
    const reads = mark?.reads;
    this.title.textContent = reads ? `Faithfulness curves of ${JSON.stringify(reads)} at ${JSON.stringify(word)}` : `Faithfulness curves of ${JSON.stringify(word)}`;
    if (curves === null) this.body.replaceChildren(h("p", { class: "tam-muted", role: "curves-none", text: `not explained by ${method}` }));
    else this.body.replaceChildren(plot(curves, mark), key(curves));
  }
}
