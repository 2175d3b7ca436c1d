// @vitest-environment jsdom
/**
 * Text relevance that reads: earlier tokens shaded in one quiet hue (alpha = value) with the top few
 * underlined, a tooltip per token (id, probability, map peak, ECI scale s_v), the "?" help popover,
 * and token text that stays text everywhere.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Snapshot } from "../src/app";
import type { ItemMeta } from "../src/codec";
import { TAM, TamMaps } from "../src/methods/tam";
import widget from "../src/widget";
import { PAPER_URL } from "../src/views/help";
import { MAX_ALPHA, MIN_TOP, relevanceColour, TokenView, TOP_RELEVANT, topUnits } from "../src/views/tokens";
import { tokenFacts } from "../src/views/tooltip";
import { type Case, type CaseOptions, fakeModel, syntheticCase } from "./helpers";

const NASTY = "<img src=x onerror=alert(1)>";
const AMBER = /^rgba\(245, 158, 11, (0(\.\d+)?)\)$/;

let cleanup: (() => void) | null = null;

/** A synthetic case with what the Python side adds: token ids, the chosen tokens' probabilities, the visual signal. */
function richCase(opts: CaseOptions = {}): Case {
  const c = syntheticCase({ nPrompt: 3, nAnswer: 5, ...opts });
  const T = c.meta.items.length;
  c.meta.items.forEach((it, i) => Object.assign(it, { id: 1000 + i }));
  c.meta.chosen = Array.from({ length: c.meta.n_answer }, (_, r) => ({ rank: 0, p: r === 2 ? null : r === 3 ? "NaN" : 0.25 + r / 10 }));
  c.meta.signal = { strength: Array.from({ length: T }, (_, i) => (i === T - 1 ? 0.004 : i / T)), floor: 0.01 };
  return c;
}

function mount(c: Case, traits = {}): HTMLElement {
  const el = document.createElement("div");
  document.body.appendChild(el);
  cleanup = widget.render({ model: fakeModel(c, traits).asModel(), el });
  return el;
}

const tokens = (el: HTMLElement) => [...el.querySelectorAll<HTMLElement>('[data-role="token"]')];
const role = (el: ParentNode, name: string) => el.querySelector(`[data-role="${name}"]`) as HTMLElement;
const snapshot = (el: HTMLElement) => (el.querySelector(".tam-widget") as HTMLElement & { tam: { snapshot(): Snapshot } }).tam.snapshot();
const alphaOf = (node: HTMLElement) => Number(AMBER.exec(node.style.backgroundColor)?.[1] ?? Number.NaN);
const facts = (tip: HTMLElement) => Object.fromEntries([...tip.querySelectorAll(".tam-fact")].map((row) => [row.querySelector("dt")?.textContent, row.querySelector("dd")?.textContent]));

beforeEach(() => {
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  cleanup?.();
  cleanup = null;
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe("quiet relevance", () => {
  const items: ItemMeta[] = ["a", "b", "c", "d", "e", "f"].map((text, i) => ({ text, position: i, word: i, prompt: i < 3 }));

  function view(values: number[], flat: (i: number) => boolean = () => false): HTMLElement[] {
    const v = new TokenView(items, { select() {}, hover() {} }, flat);
    v.render(false);
    v.update(5, 5, Float32Array.from([...values, 0]), values.length);
    return [...v.el.querySelectorAll<HTMLElement>('[data-role="token"]')];
  }

  it("shades earlier tokens in one hue whose alpha follows the value, never the colour map", () => {
    const ts = view([0, 0.25, 0.5, 1, 0.05]);
    expect(ts.slice(0, 5).every((t) => AMBER.test(t.style.backgroundColor))).toBe(true);
    expect(ts.slice(0, 5).map(alphaOf)).toEqual([0, 0.1, 0.2, MAX_ALPHA, 0.02]);
    expect(ts[5].style.backgroundColor).toBe(""); // the shown token itself: no relevance
    expect(ts.every((t) => t.style.color === "")).toBe(true); // the theme's text colour, always
  });

  it("underlines the top few (largest first, at least MIN_TOP) and keeps muted tokens muted", () => {
    const ts = view([0.2, 0.9, 0.05, 0.5, 0.7], (i) => i === 4);
    const top = ts.filter((t) => t.classList.contains("is-top"));
    expect(top.map((t) => [t.textContent, t.dataset.rank])).toEqual([["b", "1"], ["d", "3"], ["e", "2"]]);
    expect(ts[4].classList.contains("is-flat")).toBe(true);
    expect(view([0.09, 0.05, 0, 0.02, 0]).some((t) => t.classList.contains("is-top"))).toBe(false);
    expect(topUnits([0.3, 1, MIN_TOP, 0.5, 0.4], TOP_RELEVANT)).toEqual([1, 3, 4]);
    expect(relevanceColour(2)).toBe(`rgba(245, 158, 11, ${MAX_ALPHA})`);
  });

  it("in the widget: the top three of the shown item's relevance are emphasised, and follow the shown item", () => {
    const c = richCase({ nPrompt: 4, nAnswer: 6 });
    const el = mount(c, { selected: 9 });
    const text = snapshot(el).text;
    const best = text.map((_, i) => i).sort((a, b) => text[b] - text[a]).slice(0, 3).filter((i) => text[i] >= MIN_TOP);
    const ranked = tokens(el).filter((t) => t.classList.contains("is-top")).sort((a, b) => Number(a.dataset.rank) - Number(b.dataset.rank));
    expect(ranked.map((t) => Number(t.dataset.index))).toEqual(best);
    tokens(el).forEach((t, i) => i < text.length && expect(alphaOf(t)).toBeCloseTo(MAX_ALPHA * text[i], 2));
    tokens(el)[5].dispatchEvent(new MouseEvent("mouseover", { bubbles: true })); // hover item 5: its relevance instead
    expect(tokens(el).filter((t) => t.classList.contains("is-top")).every((t) => Number(t.dataset.index) < 5)).toBe(true);
  });
});

describe("token tooltip", () => {
  it("says the id, the chosen token's probability, the map peak and s_v (n/a where there is none)", () => {
    const c = richCase();
    const maps = TAM.decode(c.data, c.meta.methods.tam, { T: 8, nv: 48, frames: c.meta.frames }) as TamMaps;
    const at = (item: number) => Object.fromEntries(tokenFacts(c.meta, maps, item).map((f) => [f.label, f.value]));
    const s4 = maps.data.scale[4];
    expect(at(4)).toEqual({ "token id": "1004", probability: "35.0%", "map peak": "50% of the answer's strongest", "ECI scale sᵥ": s4.toPrecision(3) });
    expect(at(0)["ECI scale sᵥ"]).toBe("n/a (no ECI context)"); // syntheticCase: item 0's scale is NaN
    expect(at(0).probability).toBe("n/a (a prompt token)");
    expect(at(3).probability).toBe("25.0%"); // the first answer token
    expect(at(5).probability).toBe("n/a (not recorded)"); // chosen p null
    expect(at(6).probability).toBe("n/a"); // chosen p "NaN"
    expect(at(7)["map peak"]).toBe("0% of the answer's strongest");
    const bare = { ...c.meta, chosen: undefined, signal: undefined, items: c.meta.items.map(({ id: _, ...it }) => it) };
    expect(tokenFacts(bare, maps, 4).slice(0, 3).map((f) => f.value)).toEqual(["n/a", "n/a (not recorded)", "n/a"]);
    expect(tokenFacts(bare, { compute: maps.compute.bind(maps) }, 4).length).toBe(3); // a method without facts
  });

  it("shows on hover and on keyboard focus, hides on leave, blur and Escape, and sets the title aside meanwhile", () => {
    const el = mount(richCase());
    const tip = role(el, "tooltip");
    const t = tokens(el)[4];
    const title = t.title;
    expect(tip.hidden).toBe(true);
    t.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    expect(tip.hidden).toBe(false);
    expect(facts(tip)["token id"]).toBe("1004");
    expect(tip.querySelector(".tam-tooltip-title")?.textContent).toBe(title);
    expect([t.hasAttribute("title"), t.getAttribute("aria-describedby")]).toEqual([false, tip.id]);
    role(el, "tokens").dispatchEvent(new MouseEvent("mouseleave"));
    expect([tip.hidden, t.title, t.hasAttribute("aria-describedby")]).toEqual([true, title, false]);
    tokens(el)[6].focus();
    expect([tip.hidden, facts(tip)["token id"]]).toEqual([false, "1006"]);
    tokens(el)[6].dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(tip.hidden).toBe(true);
    tokens(el)[2].focus();
    tokens(el)[2].blur();
    expect(tip.hidden).toBe(true);
  });
});

describe("help popover", () => {
  it("opens from the ? button, links the paper, closes on Escape (focus back on the button) and on a click outside", () => {
    const el = mount(richCase());
    const button = role(el, "help-button");
    const panel = role(el, "help");
    expect(panel.hidden).toBe(true);
    button.click();
    expect([panel.hidden, button.getAttribute("aria-expanded")]).toEqual([false, "true"]);
    expect((panel.querySelector("a") as HTMLAnchorElement).href).toBe(PAPER_URL);
    for (const word of ["LM head", "ECI", "least squares", "CAM", "rank", "relevance"]) expect(panel.textContent).toContain(word);
    panel.dispatchEvent(new Event("pointerdown", { bubbles: true })); // inside: stays open
    expect(panel.hidden).toBe(false);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect([panel.hidden, button.getAttribute("aria-expanded"), document.activeElement]).toEqual([true, "false", button]);
    button.click();
    tokens(el)[0].dispatchEvent(new Event("pointerdown", { bubbles: true }));
    expect(panel.hidden).toBe(true);
    button.click();
    button.click(); // the button toggles
    expect(panel.hidden).toBe(true);
  });

  it("the method's name links to the paper", () => {
    const el = mount(richCase());
    const method = role(el, "method") as HTMLAnchorElement;
    expect([method.tagName, method.href, method.textContent]).toEqual(["A", PAPER_URL, "TAM (ECI + filter)"]);
    expect(method.rel).toContain("noopener");
  });
});

it("token text like <img src=x onerror=alert(1)> stays text: in the token, its title and the tooltip", () => {
  const el = mount(richCase({ texts: [NASTY, "<b>x</b>", " a", " b", " c", " d", " e", " f"] }));
  const t = tokens(el)[0];
  expect(t.textContent).toBe(NASTY);
  t.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
  expect(role(el, "tooltip").querySelector(".tam-tooltip-title")?.textContent).toContain(NASTY);
  expect(el.querySelectorAll("img, b").length).toBe(0);
});
