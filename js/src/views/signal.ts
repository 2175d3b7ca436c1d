/**
 * "How visual" each answer token is, at a glance: one bar per answer token, its height the token's
 * visual-signal strength (its raw map's peak over the answer's largest, meta.signal); a token below
 * the noise floor gets a muted stub. Clicking a bar selects its token, hovering previews it.
 */

import type { WireMeta } from "../codec";
import { displayText, h } from "./dom";

export class SignalStrip {
  readonly el: HTMLElement;
  private readonly bars: HTMLElement[] = [];
  private readonly first: number;
  private readonly row: HTMLElement; // the bars; scrolls sideways when they do not fit
  private selected = -1;

  constructor(
    meta: WireMeta,
    private readonly on: { select(item: number): void; hover(item: number | null): void },
  ) {
    this.first = meta.n_prompt;
    const signal = meta.signal;
    const row = (this.row = h("div", { class: "tam-strip-bars" }));
    if (signal && meta.n_answer > 0) {
      for (let k = 0; k < meta.n_answer; k++) {
        const item = meta.n_prompt + k;
        const s = Number(signal.strength[item] ?? 0);
        const flat = !(s >= signal.floor);
        const text = displayText(meta.items[item]?.text ?? "");
        const bar = h(
          "button",
          {
            class: `tam-strip-bar${flat ? " is-flat" : ""}`,
            role: "signal-bar",
            attrs: {
              type: "button",
              "data-index": String(item),
              title: `#${item} ${JSON.stringify(text)} · ${flat ? "no visual signal" : `visual signal ${Math.round(100 * s)} %`}`,
              "aria-label": `${text}: ${flat ? "no visual signal" : `visual signal ${Math.round(100 * s)} percent`}`,
            },
          },
          [h("span", { class: "tam-strip-fill" })],
        );
        (bar.firstChild as HTMLElement).style.height = `${flat ? 8 : Math.max(8, Math.round(100 * s))}%`;
        this.bars.push(bar);
        row.appendChild(bar);
      }
    }
    this.el = h("div", { class: "tam-strip", role: "signal-strip", attrs: this.bars.length ? {} : { hidden: "" } }, [
      h("span", { class: "tam-line-label", text: "Visual" }),
      row,
    ]);
    this.el.addEventListener("click", this.onClick);
    this.el.addEventListener("mouseover", this.onOver);
    this.el.addEventListener("mouseleave", this.onLeave);
  }

  /** Mark the selected item's bar, and scroll a long answer's row to it. */
  update(selected: number): void {
    if (selected === this.selected) return;
    this.bars[this.selected - this.first]?.classList.remove("is-selected");
    const bar = this.bars[selected - this.first];
    bar?.classList.add("is-selected");
    this.selected = selected;
    if (bar) afterLayout(() => revealIn(this.row, bar));
  }

  dispose(): void {
    this.el.removeEventListener("click", this.onClick);
    this.el.removeEventListener("mouseover", this.onOver);
    this.el.removeEventListener("mouseleave", this.onLeave);
  }

  private itemAt(target: EventTarget | null): number {
    const bar = target instanceof Element ? target.closest<HTMLElement>('[data-role="signal-bar"]') : null;
    return bar ? Number(bar.dataset.index) : -1;
  }

  private readonly onClick = (e: MouseEvent) => {
    const item = this.itemAt(e.target);
    if (item >= 0) this.on.select(item);
  };

  private readonly onOver = (e: MouseEvent) => {
    const item = this.itemAt(e.target);
    if (item >= 0) this.on.hover(item);
  };

  private readonly onLeave = () => this.on.hover(null);
}

/** Run `fn` when the frame's layout is done anyway (the next animation frame), so reading geometry forces none. */
function afterLayout(fn: () => void): void {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(fn);
  else fn();
}

/** Scroll `row` sideways (only it: never the page) so that `bar` is in view, centred when it was out. */
export function revealIn(row: HTMLElement, bar: HTMLElement): void {
  const left = bar.offsetLeft; // the row is the bar's offsetParent (widget.css)
  if (left >= row.scrollLeft && left + bar.offsetWidth <= row.scrollLeft + row.clientWidth) return;
  row.scrollLeft = Math.max(0, left - (row.clientWidth - bar.offsetWidth) / 2);
}
