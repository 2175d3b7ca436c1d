/**
 * How large the panels are: S / M / L (fixed, the long side in CSS px) or fit (default: the panels
 * share the width of the left column, which then grows with the output area; no taller than most
 * of the window). A ResizeObserver follows the column's width where there is one. Browser-only
 * state, never synced. The canvas pixels follow the shown size (backingSize).
 */

import { h } from "./dom";

export type SizeMode = "S" | "M" | "L" | "fit";
export const SIZE_MODES: readonly SizeMode[] = ["S", "M", "L", "fit"];
/** The long side of a panel, CSS px. */
export const SIZES: Record<Exclude<SizeMode, "fit">, number> = { S: 256, M: 384, L: 512 };
export const MIN_FIT = 240; // a fitted panel is no narrower (more panels wrap instead)
export const GAP = 8; // between panels, as .tam-panels' gap
export const MIN_SIDE = 256; // canvas pixels on the long side: small images are drawn larger,
export const MAX_SIDE = 512; // large ones at most this while the shown size is unknown
const MAX_CANVAS = 4096;
const HYSTERESIS = 24; // a width change smaller than this (a scrollbar coming and going) keeps the layout

/** Each panel's width when `count` panels share `avail` CSS px: as many per row as stay MIN_FIT wide. */
export function fitWidth(avail: number, count: number, gap = GAP, min = MIN_FIT): number {
  const n = Math.max(1, count);
  const perRow = Math.max(1, Math.min(n, Math.floor((avail + gap) / (min + gap))));
  return Math.max(1, Math.floor((avail - gap * (perRow - 1)) / perRow));
}

/** A panel's CSS width for an image of aspect height / width; fit: `perPanel`, no taller than `maxHeight`. */
export function panelWidth(mode: SizeMode, aspect: number, perPanel: number, maxHeight: number): number {
  const a = aspect > 0 && Number.isFinite(aspect) ? aspect : 1;
  if (mode === "fit") return Math.max(1, Math.floor(Math.min(perPanel, maxHeight / a)));
  const long = SIZES[mode];
  return Math.max(1, Math.round(a > 1 ? long / a : long));
}

/**
 * Canvas pixels [w, h] for an iw x ih image shown `css` px wide (0: not known) at device pixel ratio
 * `dpr` and zoom `z`. Unzoomed: the image's own resolution, kept in [MIN_SIDE, MAX_SIDE] (a canvas
 * pixel is an image pixel for most inputs), or up to the screen's resolution for a larger image on
 * a larger panel; zoomed: the screen's resolution, so the magnified part is drawn sharp.
 */
export function backingSize(iw: number, ih: number, css: number, dpr: number, z: number): [number, number] {
  const long = Math.max(iw, ih, 1);
  const device = css > 0 ? Math.min(MAX_CANVAS, (css * Math.max(1, dpr) * long) / Math.max(iw, 1)) : MAX_SIDE;
  const own = Math.min(MAX_SIDE, Math.max(MIN_SIDE, long));
  const side = z > 1 ? device : Math.max(own, Math.min(device, long));
  return [Math.max(1, Math.round((iw * side) / long)), Math.max(1, Math.round((ih * side) / long))];
}

/** What the layout needs of a panel. */
export interface Sized {
  readonly aspect: number;
  resize(css: number, dpr: number): void;
  setOriginal(show: boolean): void;
}

export class PanelLayout {
  readonly el: HTMLElement;
  private mode: SizeMode = "fit";
  private original = false;
  private width = -1; // the area's width last laid out for
  private readonly observer: ResizeObserver | null = null;
  private readonly buttons: HTMLButtonElement[];
  private readonly onWindow = () => this.mode === "fit" && this.layout(); // a taller window: a new height limit

  /** `column` grows in fit mode (class is-fit); `area` holds the panels and is measured. */
  constructor(
    private readonly panels: readonly Sized[],
    private readonly column: HTMLElement,
    private readonly area: HTMLElement,
  ) {
    this.buttons = SIZE_MODES.map((mode) => {
      const b = h("button", { role: "panel-size", text: mode === "fit" ? "Fit" : mode, attrs: { type: "button", "data-size": mode, title: mode === "fit" ? "Fit the width" : `${SIZES[mode]} px` } });
      b.addEventListener("click", () => this.setMode(mode));
      return b;
    });
    this.el = h("div", { class: "tam-size", role: "panel-sizes", attrs: { "aria-label": "Image size" } }, [h("span", { class: "tam-control-label", text: "size" }), ...this.buttons]);
    if (typeof ResizeObserver === "function") {
      this.observer = new ResizeObserver(() => this.onResize());
      this.observer.observe(area);
    }
    if (typeof window !== "undefined") window.addEventListener("resize", this.onWindow);
    this.setMode("fit");
  }

  setMode(mode: SizeMode): void {
    this.mode = mode;
    this.column.classList.toggle("is-fit", mode === "fit");
    for (const b of this.buttons) b.setAttribute("aria-pressed", String(b.dataset.size === mode));
    this.layout();
  }

  /** Show or hide the originals beside the overlays (two canvases a panel: fit halves them). */
  setOriginal(show: boolean): void {
    for (const p of this.panels) p.setOriginal(show);
    if (show === this.original) return;
    this.original = show;
    this.layout();
  }

  dispose(): void {
    this.observer?.disconnect();
    if (typeof window !== "undefined") window.removeEventListener("resize", this.onWindow);
  }

  private onResize(): void {
    if (this.mode === "fit" && Math.abs(this.area.clientWidth - this.width) >= HYSTERESIS) this.layout();
  }

  private layout(): void {
    this.width = this.area.clientWidth;
    const count = this.panels.length * (this.original ? 2 : 1);
    const inner = typeof window === "undefined" ? 0 : window.innerHeight;
    const maxHeight = inner > 0 ? Math.max(MIN_FIT, inner - 160) : SIZES.L;
    const mode = this.mode === "fit" && this.width <= 0 ? "M" : this.mode; // not laid out yet (or jsdom)
    const perPanel = fitWidth(this.width, count);
    const dpr = typeof window === "undefined" ? 1 : window.devicePixelRatio || 1;
    const widths = this.panels.map((p) => panelWidth(mode, p.aspect, perPanel, maxHeight));
    this.panels.forEach((p, i) => p.resize(widths[i], dpr));
    this.column.style.maxWidth = mode === "fit" ? this.narrowest(widths, perPanel, maxHeight, count) : "";
  }

  /** Fit, all panels in one row and each held by the height limit: the column need not be wider than
   * them (the text column takes the rest). n x the widest, so that laying out again keeps them all. */
  private narrowest(widths: number[], perPanel: number, maxHeight: number, count: number): string {
    const oneRow = Math.floor((this.width + GAP) / (MIN_FIT + GAP)) >= count;
    const held = this.panels.every((p) => Math.floor(maxHeight / p.aspect) <= perPanel);
    return oneRow && held && widths.length > 0 ? `${count * Math.max(...widths) + GAP * (count - 1)}px` : "";
  }
}
