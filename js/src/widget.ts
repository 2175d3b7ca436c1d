/**
 * anywidget entry point: render({model, el}) builds the view of the explanation and returns its cleanup.
 * A new _data / _meta / _images from Python rebuilds the view; small traits update it in place.
 * The widget keeps its own keys from the host notebook's shortcuts (keys.ts). Where a kernel answers,
 * the answer can be edited from the page (whatif/).
 */

import type { AnyWidget, RenderProps } from "@anywidget/types";
import { App } from "./app";
import { isCompare } from "./compare/model";
import { renderCompare } from "./compare/render";
import { keepKeys } from "./keys";
import type { Model } from "./model";
import { DATA_KEYS } from "./state/synced";
import { h } from "./views/dom";
import { WhatIfHost } from "./whatif/host";

function render({ model, el }: Pick<RenderProps<Model>, "model" | "el">): () => void {
  if (isCompare(model)) return renderCompare(model as unknown as Parameters<typeof renderCompare>[0], el); // CompareWidget
  const root = h("div", { class: "tam-widget" });
  const whatIf = new WhatIfHost(model, root); // the edit bar, and the comparison once the kernel answers
  el.append(root, whatIf.el);
  const options = whatIf.live ? { continueWith: (item: number, id: number) => whatIf.continueWith(item, id) } : {};
  let app: App | null = null;
  const fail = (err: unknown) => {
    console.error("tam-widget:", err);
    root.replaceChildren(h("div", { class: "tam-error", role: "error", text: `tam-widget could not show this explanation: ${String(err)}` }));
  };
  const build = () => {
    app?.dispose();
    app = null;
    root.replaceChildren();
    try {
      const made = new App(model, root, options);
      app = made;
      made.ready.catch((err: unknown) => {
        if (app !== made) return; // rebuilt meanwhile
        made.dispose();
        app = null;
        fail(err);
      });
    } catch (err) {
      fail(err);
    }
  };
  build();
  // A read-only handle for tests and debugging: document.querySelector(".tam-widget").tam.snapshot()
  // ready(): resolves once the maps are drawn (the exported page decodes its buffer after the first view)
  const handle = { snapshot: () => app?.snapshot() ?? null, ready: () => app?.ready ?? Promise.resolve() };
  Object.defineProperty(root, "tam", { value: handle, configurable: true });
  for (const key of DATA_KEYS) model.on(`change:${key}`, build);
  const releaseKeys = keepKeys(root);
  return () => {
    releaseKeys();
    for (const key of DATA_KEYS) model.off(`change:${key}`, build);
    app?.dispose();
    whatIf.dispose();
    root.remove();
  };
}

export default { render } satisfies AnyWidget<Model>;
