/** The compare widget's render({model, el}): the CompareApp, rebuilt when Python sends new data; returns its cleanup. */

import { keepKeys } from "../keys";
import { h } from "../views/dom";
import { CompareApp } from "./app";
import type { CompareWidgetModel } from "./model";

const COMPARE_KEYS = ["_data_a", "_meta_a", "_images_a", "_data_b", "_meta_b", "_images_b", "_compare"] as const;

export function renderCompare(model: CompareWidgetModel, el: HTMLElement): () => void {
  const root = h("div", { class: "tam-compare", role: "compare" });
  el.appendChild(root);
  let app: CompareApp | null = null;
  const build = () => {
    app?.dispose();
    app = null;
    root.replaceChildren();
    try {
      app = new CompareApp(model, root);
    } catch (err) {
      console.error("tam-widget:", err);
      root.appendChild(h("div", { class: "tam-error", role: "error", text: `tam-widget could not show this comparison: ${String(err)}` }));
    }
  };
  build();
  // read-only handle for tests: document.querySelector(".tam-compare").tamCompare.snapshot()
  Object.defineProperty(root, "tamCompare", { value: { snapshot: () => app?.snapshot() ?? null }, configurable: true });
  for (const key of COMPARE_KEYS) model.on(`change:${key}`, build);
  const releaseKeys = keepKeys(root);
  return () => {
    releaseKeys();
    for (const key of COMPARE_KEYS) model.off(`change:${key}`, build);
    app?.dispose();
    root.remove();
  };
}
