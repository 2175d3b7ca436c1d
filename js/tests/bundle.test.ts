// @vitest-environment jsdom
/**
 * The shipped bundle (npm run build -> tam_widget/display/static/widget.js) is self-contained and
 * renders like the sources. It must exist: scripts/test.sh builds it before vitest runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it, vi } from "vitest";
import { fakeModel, syntheticCase } from "./helpers";

const BUNDLE = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tam_widget", "display", "static", "widget.js");

type Widget = { render: (props: unknown) => () => void };

/**
 * Evaluate the ES module bundle as a function body. Vite's test runner refuses to import a
 * git-ignored file outside the js/ root; a bundle with no imports needs no module loader anyway.
 */
function loadBundle(): Widget {
  if (!existsSync(BUNDLE)) throw new Error(`No widget bundle at ${BUNDLE}: run npm run build first (in js/, or bash scripts/build-js.sh).`);
  const src = readFileSync(BUNDLE, "utf8");
  expect(src).not.toMatch(/(^|[;}])\s*import\s*[{*\w"']/); // self-contained: anywidget loads it alone
  const exported = /export\s*\{\s*([\w$]+)\s+as\s+default\s*\}\s*;?\s*$/.exec(src);
  if (!exported) throw new Error("the bundle has no default export");
  const body = `"use strict";${src.slice(0, exported.index)}\nreturn ${exported[1]};`;
  return new Function(body)() as Widget;
}

it("the built bundle renders tokens and reacts to a click", () => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  const widget = loadBundle();
  const model = fakeModel(syntheticCase({ texts: ["<img src=x onerror=alert(1)>"] }));
  const el = document.createElement("div");
  const stop = widget.render({ model: model.asModel(), el });
  const tokens = el.querySelectorAll<HTMLElement>('[data-role="token"]');
  expect(tokens.length).toBe(10);
  expect(el.querySelector("img")).toBeNull();
  expect(tokens[0].textContent).toBe("<img src=x onerror=alert(1)>");
  tokens[1].click();
  expect(model.get("selected")).toBe(1);
  stop();
  expect(model.listenerCount()).toBe(0);
});
