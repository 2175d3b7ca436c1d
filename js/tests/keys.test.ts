// @vitest-environment jsdom
/**
 * The widget keeps its keys from the host's shortcuts (src/keys.ts). A capture listener on
 * the document stands in for Notebook 7's Lumino application: it acts on every keydown that is not
 * default-prevented, as Lumino 2's CommandRegistry.processKeydownEvent does.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { keepKeys } from "../src/keys";
import widget from "../src/widget";
import { fakeModel, syntheticCase } from "./helpers";

let cleanup: (() => void) | null = null;
let host: string[] = []; // the keys the stand-in host would act on
const hostShortcuts = (e: KeyboardEvent) => void (e.defaultPrevented || host.push(e.key));

function mount() {
  const model = fakeModel(syntheticCase({ nPrompt: 3, nAnswer: 5 }));
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: model.asModel(), el });
  return { model, el };
}

const press = (node: Element, key: string, mods: KeyboardEventInit = {}) => {
  const e = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...mods });
  node.dispatchEvent(e);
  return e;
};
const token = (el: HTMLElement, i: number) => el.querySelector(`[data-role="token"][data-index="${i}"]`) as HTMLElement;

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  host = [];
  document.addEventListener("keydown", hostShortcuts, true);
});

afterEach(() => {
  cleanup?.();
  cleanup = null;
  document.removeEventListener("keydown", hostShortcuts, true);
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe("keys inside the widget", () => {
  it("moves the selection with the arrows while the host's capture-phase shortcuts see none of them", () => {
    const { model, el } = mount();
    token(el, 4).focus();
    for (const key of ["ArrowDown", "ArrowRight", "End", "Home", "ArrowUp", "Enter", " "]) press(document.activeElement as Element, key);
    expect(host).toEqual([]);
    expect(model.get("selected")).toBe(0); // Home, then ArrowUp stays at the first token; Enter and Space keep it
    press(document.activeElement as Element, "ArrowDown");
    press(document.activeElement as Element, "ArrowRight");
    expect(model.get("selected")).toBe(2);
    expect((document.activeElement as HTMLElement).dataset.index).toBe("2"); // the focus stays in the widget
  });

  it("leaves modified keys and Escape to the host: Shift+Enter still runs the cell", () => {
    const { model, el } = mount();
    token(el, 4).focus();
    const before = model.get("selected");
    for (const [key, mods] of [["Enter", { shiftKey: true }], ["s", { ctrlKey: true }], ["Escape", {}], ["ArrowDown", { altKey: true }]] as const) {
      expect(press(token(el, 4), key, mods).defaultPrevented).toBe(false);
    }
    expect(host).toEqual(["Enter", "s", "Escape", "ArrowDown"]);
    expect(model.get("selected")).toBe(before);
  });

  it("keeps a slider's arrow keys from the host without cancelling the slider's own default action", () => {
    const { el } = mount();
    const slider = el.querySelector('[data-role="eci-scale"]') as HTMLInputElement;
    const e = press(slider, "ArrowUp");
    expect(e.defaultPrevented).toBe(false);
    expect(host).toEqual([]);
  });

  it("ignores keys outside the widget and stops listening on cleanup", () => {
    const { el } = mount();
    const outside = document.body.appendChild(document.createElement("button"));
    press(outside, "ArrowDown");
    expect(host).toEqual(["ArrowDown"]);
    const root = el.querySelector(".tam-widget") as HTMLElement;
    const remove = vi.spyOn(window, "removeEventListener");
    cleanup?.();
    cleanup = null;
    expect(remove).toHaveBeenCalledWith("keydown", expect.any(Function), true);
    const detached = document.body.appendChild(root); // even were the node put back, nothing listens any more
    press(detached.querySelector('[data-role="token"]') as Element, "ArrowDown");
    expect(host).toEqual(["ArrowDown", "ArrowDown"]);
  });

  it("guards a bare root too (keepKeys on its own)", () => {
    const root = document.body.appendChild(document.createElement("div"));
    const button = root.appendChild(document.createElement("button"));
    const release = keepKeys(root);
    press(button, "Enter");
    release();
    press(button, "Enter");
    expect(host).toEqual(["Enter"]);
  });
});
