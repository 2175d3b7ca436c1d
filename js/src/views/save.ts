/**
 * "Save PNG": the figure of figure.ts (title with the token in context, the views as drawn, a
 * colour bar) at 2x, downloaded by the browser. After a download starts, document receives a
 * "tam-saved" event whose detail gives the file name, the scale and the figure's CSS size.
 */

import type { ItemMeta } from "../codec";
import { displayText, isWhitespace } from "./dom";
import { compose, type FigureSpec, type FigureView, type Title } from "./figure";

export { compose } from "./figure";

/** Device pixels per CSS px of the saved figure. */
export const FIGURE_SCALE = 2;
/** Items shown before and after the token in the title (as Python's figure.CONTEXT). */
export const CONTEXT = 4;

const shown = (it: ItemMeta) => `${it.gap ? " " : ""}${it.text.replace(/\r\n|\r|\n/g, "⏎")}`;

/** The item's text with up to `k` items either side (special items left out, as in Python's title). */
export function contextTitle(items: readonly ItemMeta[], index: number, k = CONTEXT): Title {
  const keep = items.map((_, i) => i).filter((i) => !items[i].special || i === index);
  const at = keep.indexOf(index);
  if (at < 0) return { before: [], token: "", after: [], lead: false, trail: false };
  const before = keep.slice(Math.max(0, at - k), at).map((i) => shown(items[i]));
  const after = keep.slice(at + 1, at + 1 + k).map((i) => shown(items[i]));
  const it = items[index];
  const space = (it.gap ? " " : "") + (isWhitespace(it.text) ? "" : (/^\s*/.exec(it.text)?.[0] ?? ""));
  const token = isWhitespace(it.text) ? displayText(it.text) : it.text.trim().replace(/\r\n|\r|\n/g, "⏎");
  if (space) before.push(space); // the token's leading space stays outside the bold
  return { before, token, after, lead: at - k > 0, trail: at + 1 + k < keep.length };
}

/** The figure's pieces: the shown item's title, the method's label and each panel's view at `scale`. */
export function figureSpec(items: readonly ItemMeta[], item: number, label: string, panels: readonly { figureView(scale: number): FigureView }[], scale = FIGURE_SCALE): FigureSpec {
  return { title: contextTitle(items, item), label, views: panels.map((p) => p.figureView(scale)) };
}

/** A file name from the token text: letters, digits, - and _ only. */
export function fileName(item: number, text: string): string {
  const safe = text.trim().replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 40).replace(/^_+|_+$/g, "");
  return `tam_${item}${safe ? `_${safe}` : ""}.png`;
}

/** Encode the canvas as PNG and hand it to the browser as a download; false if this environment cannot. */
export function download(canvas: HTMLCanvasElement, name: string): boolean {
  if (typeof canvas.toBlob !== "function" || typeof URL.createObjectURL !== "function") return false;
  canvas.toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, "image/png");
  return true;
}

/** Compose the figure at `scale` and download it; false if this environment cannot make the PNG. */
export function savePng(spec: FigureSpec, name: string, scale = FIGURE_SCALE): boolean {
  const figure = compose(spec, scale);
  if (!figure || !download(figure.canvas, name)) return false;
  const { width, height } = figure.layout;
  document.dispatchEvent(new CustomEvent("tam-saved", { detail: { name, scale, width, height, views: figure.layout.views, bar: figure.layout.bar } }));
  return true;
}
