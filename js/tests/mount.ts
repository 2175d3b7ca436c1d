/** The widget mounted in jsdom for DOM tests: a fresh element in the body, canvases without a context
 * (jsdom has none), and after each test the widget's cleanup, an empty body and the mocks restored;
 * and the comparison the compare and what-if tests mount (two synthetic sides and their alignment). */

import { afterEach, beforeEach, vi } from "vitest";
import type { CompareMeta } from "../src/compare/model";
import widget from "../src/widget";
import { type Case, type FakeModel, syntheticCase } from "./helpers";

let cleanup: (() => void) | null = null;

/** Registers the hooks around each test of the file (or of the `describe` it is called in). */
export function mountHooks(): void {
  beforeEach(() => void vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null));
  afterEach(() => {
    cleanup?.();
    cleanup = null;
    document.body.replaceChildren();
    vi.restoreAllMocks();
  });
}

/** `model` rendered by the widget (its TAM view, or CompareWidget's for a comparison's traits) into a new element. */
export function mountModel(model: FakeModel): { model: FakeModel; el: HTMLElement } {
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: model.asModel(), el });
  return { model, el };
}

/** Side a of the comparison: 3 prompt and 4 answer items. */
export const sideA = (): Case => syntheticCase({ nPrompt: 3, nAnswer: 4, seed: 1 });

/** Side b: the same prompt, an answer with one word more at item 4. */
export const sideB = (): Case => syntheticCase({ nPrompt: 3, nAnswer: 5, seed: 2 });

/** The alignment of a and b (a new object each call): b's item 4 has no partner, and rows 4 and 5 changed. */
export function oneWordMore(): CompareMeta {
  return {
    rows: [[0, 0], [1, 1], [2, 2], [3, 3], [-1, 4], [4, 5], [5, 6], [6, 7]],
    changed: [false, false, false, false, true, true, false, false],
    labels: ["said", "what if"],
    same_grids: true,
  };
}
