// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Snapshot } from "../src/app";
import widget from "../src/widget";
import { type Case, type CaseOptions, FakeModel, fakeModel, syntheticCase } from "./helpers";
import { installMockCanvas } from "./mock-canvas";

const NASTY = ["<img src=x onerror=alert(1)>", "</script>", "<b>bold</b>", "&amp; \"quotes\" 'x'", "\n"];

let cleanup: (() => void) | null = null;

function mount(opts: CaseOptions = {}, traits = {}): { model: FakeModel; el: HTMLElement; c: Case } {
  const c = syntheticCase(opts);
  const model = fakeModel(c, traits);
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: model.asModel(), el });
  return { model, el, c };
}

const tokens = (el: HTMLElement) => [...el.querySelectorAll<HTMLElement>('[data-role="token"]')];
const role = <T extends Element = HTMLElement>(el: HTMLElement, name: string) => el.querySelector<T & Element>(`[data-role="${name}"]`) as T;
const key = (node: Element, k: string) => node.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));

/** jsdom has no URL.createObjectURL: record what is made and revoked (removed again after the test). */
function stubObjectUrls(): { created: Blob[]; revoked: string[] } {
  const out = { created: [] as Blob[], revoked: [] as string[] };
  const create = (blob: Blob) => `blob:tam-test/${out.created.push(blob) - 1}`;
  const revoke = (url: string) => void out.revoked.push(url);
  const saved = { createObjectURL: Object.getOwnPropertyDescriptor(URL, "createObjectURL"), revokeObjectURL: Object.getOwnPropertyDescriptor(URL, "revokeObjectURL") };
  Object.assign(URL, { createObjectURL: create, revokeObjectURL: revoke });
  restoreUrls = () => {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(URL, k, d);
      else Reflect.deleteProperty(URL, k);
    }
  };
  return out;
}
let restoreUrls: () => void = () => {};

beforeEach(() => {
  // jsdom has no canvas: getContext returns null (and logs "not implemented"); the widget must cope.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  restoreUrls();
  restoreUrls = () => {};
  cleanup?.();
  cleanup = null;
  document.body.replaceChildren();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("render", () => {
  it("renders every item as a focusable token with data-role and data-index, one canvas per view", () => {
    const { el, c } = mount({ nPrompt: 3, nAnswer: 5, grids: [[4, 5], [3, 3]] });
    const ts = tokens(el);
    expect(ts.map((t) => t.dataset.index)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(ts.every((t) => t.tabIndex === 0 || t.getAttribute("tabindex") === "-1")).toBe(true);
    expect(ts[3].classList.contains("is-selected")).toBe(true); // default: the first answer item
    expect(ts[3].tabIndex).toBe(0);
    expect(el.querySelectorAll('[data-role="heatmap"]').length).toBe(c.meta.views.length);
    const slider = role<HTMLInputElement>(el, "eci-scale");
    expect([slider.type, slider.min, slider.max, slider.step, slider.value]).toEqual(["range", "0", "2", "0.01", "1"]);
    expect(role(el, "method").textContent).toBe("TAM (ECI + filter)");
  });

  it("colours the relevance of earlier tokens only", () => {
    const { el } = mount({ nPrompt: 3, nAnswer: 4 }, { selected: 5 });
    const coloured = tokens(el).map((t) => t.classList.contains("has-relevance"));
    expect(coloured).toEqual([true, true, true, true, true, false, false]); // n_visible[5] = 5
    expect(tokens(el)[0].style.backgroundColor).not.toBe("");
  });

  it("shows a space where the prompt skipped whitespace tokens, never inside a word or before the first token", () => {
    const { el } = mount({ nPrompt: 4, nAnswer: 2, texts: ["What", "is", "it", "?", " A", " cat"], gaps: [0, 1, 2] });
    const line = el.querySelector(".tam-line") as HTMLElement;
    expect([...line.querySelectorAll('[data-role="token"]')].map((t) => t.textContent)).toEqual(["What", "is", "it", "?"]);
    expect(line.textContent).toBe("PromptWhat is it?");
  });

  it("exposes the shown map for tests and debugging (the same numbers the canvas is drawn from)", () => {
    const { el, model } = mount({ nPrompt: 3, nAnswer: 4 }, { selected: 4 });
    const root = el.querySelector(".tam-widget") as HTMLElement & { tam?: { snapshot(): Snapshot | null } };
    const snap = root.tam?.snapshot();
    expect(snap?.shown).toBe(4);
    expect(snap?.settings).toEqual({ lambda: 1, filter: true });
    model.set("eci_scale", 0.5);
    expect(root.tam?.snapshot()?.settings).toEqual({ lambda: 0.5, filter: true });
    expect(root.tam?.snapshot()?.image.length).toBe(48);
  });

  it("clicking a token sets `selected` and saves it", () => {
    const { el, model } = mount();
    tokens(el)[2].click();
    expect(model.get("selected")).toBe(2);
    expect(model.saves).toBe(1);
    expect(tokens(el)[2].classList.contains("is-selected")).toBe(true);
    expect(tokens(el)[2].getAttribute("aria-selected")).toBe("true");
    expect(tokens(el).filter((t) => t.classList.contains("is-selected")).length).toBe(1);
  });

  it("the slider sets eci_scale, recomputes at once and saves when released (throttled while dragging)", () => {
    vi.useFakeTimers();
    const { el, model } = mount();
    const slider = role<HTMLInputElement>(el, "eci-scale");
    const before = tokens(el).map((t) => t.style.backgroundColor).join();
    slider.value = "0.5";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    expect(model.get("eci_scale")).toBe(0.5);
    expect(role(el, "method").textContent).toBe("TAM (ECI ×0.50 + filter)");
    expect(role(el, "eci-scale-value").textContent).toBe("0.50");
    slider.value = "0";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    expect(tokens(el).map((t) => t.style.backgroundColor).join()).not.toBe(before);
    expect(model.saves).toBe(0); // dragging: saved at most every ~120 ms
    slider.dispatchEvent(new Event("change", { bubbles: true })); // released: saved at once
    expect(model.saves).toBe(1);
    expect(model.get("eci_scale")).toBe(0);
    slider.value = "0.7";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    vi.advanceTimersByTime(200);
    expect(model.saves).toBe(2);
  });

  it("keeps nasty token text as text", () => {
    const { el } = mount({ nPrompt: 2, nAnswer: 3, texts: NASTY });
    expect(el.querySelector("img, b, script")).toBeNull();
    expect(tokens(el).map((t) => t.textContent)).toEqual([...NASTY.slice(0, 4), "⏎"]); // a whitespace-only token made visible
    expect(tokens(el)[0].title).toBe(`#0 ${JSON.stringify(NASTY[0])}`);
    const candidates = role(el, "candidates").textContent ?? "";
    expect(candidates).toContain("<b>other</b>");
    expect(candidates).toContain("</script>");
  });

  it("arrow keys, Home and End move the selection and the focus", () => {
    const { el, model } = mount({ nPrompt: 2, nAnswer: 4 });
    const start = tokens(el)[2];
    start.focus();
    key(start, "ArrowRight");
    expect(model.get("selected")).toBe(3);
    expect(document.activeElement).toBe(tokens(el)[3]);
    key(document.activeElement as Element, "ArrowLeft");
    key(document.activeElement as Element, "ArrowUp");
    expect(model.get("selected")).toBe(1);
    key(document.activeElement as Element, "End");
    expect(model.get("selected")).toBe(5);
    key(document.activeElement as Element, "ArrowRight");
    expect(model.get("selected")).toBe(5);
    key(document.activeElement as Element, "Home");
    expect(model.get("selected")).toBe(0);
    expect(model.saves).toBe(5); // the step past the end changed nothing and saved nothing
  });

  it("hover previews a token without changing `selected`; leaving restores the selection", () => {
    const { el, model } = mount();
    const ts = tokens(el);
    ts[1].dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(ts[1].classList.contains("is-shown")).toBe(true);
    expect(model.get("selected")).toBe(4);
    expect(role(el, "candidates").textContent).toContain("prompt token");
    role(el, "tokens").dispatchEvent(new MouseEvent("mouseleave"));
    expect(ts[4].classList.contains("is-shown")).toBe(true);
    expect(model.saves).toBe(0);
  });

  it("toggles ECI (disabling the slider), the filter, the colour map and word grouping", () => {
    const { el, model } = mount({ nPrompt: 2, nAnswer: 4, texts: ["a", "b", " to", "ken", "s", " x"], words: [0, 1, 2, 2, 2, 3] });
    const eci = role<HTMLInputElement>(el, "eci");
    eci.click();
    expect(model.get("eci")).toBe(false);
    expect(role<HTMLInputElement>(el, "eci-scale").disabled).toBe(true);
    expect(role(el, "method").textContent).toBe("CAM + rank Gaussian filter (no ECI)");
    role<HTMLInputElement>(el, "filter").click();
    expect(model.get("filter")).toBe(false);
    const select = role<HTMLSelectElement>(el, "colormap");
    select.value = "viridis";
    select.dispatchEvent(new Event("change"));
    expect(model.get("colormap")).toBe("viridis");
    role<HTMLInputElement>(el, "group-words").click();
    expect(model.get("group_words")).toBe(true);
    expect(tokens(el).map((t) => [t.dataset.index, t.textContent])).toEqual([["0", "a"], ["1", "b"], ["2", " tokens"], ["5", " x"]]);
    expect(tokens(el)[2].classList.contains("is-selected")).toBe(true); // selected item 2 lies in the word
    expect(model.saves).toBe(4);
  });

  it("follows trait changes made by Python", () => {
    const { el, model } = mount();
    model.set("selected", 7);
    expect(tokens(el)[7].classList.contains("is-selected")).toBe(true);
    model.set("eci_scale", 1.5);
    expect(role<HTMLInputElement>(el, "eci-scale").value).toBe("1.5");
    model.set("opacity", 0.2);
    expect(role<HTMLInputElement>(el, "opacity").value).toBe("0.2");
    model.set("selected", 999); // out of range: falls back to the first answer item
    expect(tokens(el)[4].classList.contains("is-selected")).toBe(true);
    expect(model.saves).toBe(0);
  });

  it("gives video views a frame slider and rebuilds on new data", () => {
    const { el, model } = mount({ grids: [[3, 4, 4]] });
    const frame = role<HTMLInputElement>(el, "frame");
    expect(frame.max).toBe("2");
    frame.value = "2";
    frame.dispatchEvent(new Event("input"));
    expect(role(el, "panel").textContent).toContain("frame 3/3");
    const next = syntheticCase({ nPrompt: 1, nAnswer: 2 });
    model.values._meta = next.meta;
    model.set("_data", new DataView(next.data));
    expect(tokens(el).length).toBe(3);
    expect(el.querySelector('[data-role="frame"]')).toBeNull();
  });

  it("shows an error instead of throwing on bad data, and cleans up", () => {
    const c = syntheticCase();
    const model = fakeModel(c);
    model.values._meta = { ...c.meta, version: 99 };
    const el = document.createElement("div");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const stop = widget.render({ model: model.asModel(), el });
    expect(role(el, "error").textContent).toMatch(/version 99/);
    expect(logged).toHaveBeenCalledOnce();
    stop();
    expect(el.children.length).toBe(0);
    expect(model.listenerCount()).toBe(0);
  });

  it("says a page names a method this bundle does not know", () => {
    const c = syntheticCase();
    const model = fakeModel(c);
    model.values._meta = { ...c.meta, method: "lime", methods: { lime: c.meta.methods.tam } };
    const el = document.createElement("div");
    vi.spyOn(console, "error").mockImplementation(() => {});
    cleanup = widget.render({ model: model.asModel(), el });
    expect(role(el, "error").textContent).toContain('This page was made by a newer tam-widget: method "lime" unknown');
    expect(tokens(el)).toEqual([]);
  });

  it("removes every listener and its DOM on cleanup, and never saves the data traits", () => {
    const { el, model } = mount();
    const set = vi.spyOn(model, "set");
    tokens(el)[0].click();
    expect(set.mock.calls.map((call) => call[0])).toEqual(["selected"]);
    cleanup?.();
    cleanup = null;
    expect(el.children.length).toBe(0);
    expect(model.listenerCount()).toBe(0);
  });

  it("Save PNG downloads one 2x figure of the panels (title, views, colour bar), named after the shown token", () => {
    vi.useFakeTimers();
    const contexts = installMockCanvas();
    const { el } = mount({ grids: [[4, 5], [3, 3]] });
    const png = new Blob(["\x89PNG"], { type: "image/png" });
    const encoded: { canvas: HTMLCanvasElement; type?: string }[] = [];
    vi.spyOn(HTMLCanvasElement.prototype, "toBlob").mockImplementation(function (this: HTMLCanvasElement, done, type) {
      encoded.push({ canvas: this, type });
      done(png);
    });
    const downloads: { name: string; href: string; attached: boolean }[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push({ name: this.download, href: this.getAttribute("href") ?? "", attached: this.isConnected });
    });
    const urls = stubObjectUrls();
    role<HTMLButtonElement>(el, "save-png").click();
    expect(encoded.map((e) => e.type)).toEqual(["image/png"]);
    const figure = encoded[0].canvas;
    expect(figure.width % 2 === 0 && figure.height % 2 === 0).toBe(true); // drawn at 2x
    const ctx = contexts.get(figure);
    expect(ctx?.draws.length).toBeGreaterThanOrEqual(2); // both views' pictures
    expect(ctx?.texts.join(" ")).toContain("t4"); // the token in its title
    expect(urls.created).toEqual([png]);
    expect(downloads).toEqual([{ name: "tam_4_t4.png", href: "blob:tam-test/0", attached: true }]);
    expect(el.ownerDocument.querySelector("a[download]")).toBeNull(); // the link is gone again
    vi.advanceTimersByTime(1000);
    expect(urls.revoked).toEqual(["blob:tam-test/0"]);
  });

  it("Save PNG without a canvas (no 2D context) starts no download and throws nothing", () => {
    const { el } = mount();
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click");
    const urls = stubObjectUrls();
    role<HTMLButtonElement>(el, "save-png").click();
    expect(click).not.toHaveBeenCalled();
    expect(urls.created).toEqual([]);
  });
});
