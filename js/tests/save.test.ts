// @vitest-environment jsdom
/** Save PNG's figure (figure.ts: title with the token in context, the views, a colour bar, at 2x) and its download (save.ts). */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ItemMeta } from "../src/codec";
import { lut } from "../src/colormap";
import { compose, figureLayout, type FigureSpec, fitTitle, FONTS, type Measure, titleRuns } from "../src/views/figure";
import { contextTitle, FIGURE_SCALE, figureSpec, fileName, savePng } from "../src/views/save";

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Text 8 px a character (bold 9): widths the tests can count. */
const measure: Measure = (text, font) => text.length * (font === FONTS.token ? 9 : 8);

interface Call {
  op: string;
  args: unknown[];
  font: string;
  fill: string;
}

/** A 2D context that records what is drawn (and with which font and fill), for the figure's canvas. */
function recordCanvas(): Map<HTMLCanvasElement, Call[]> {
  const calls = new Map<HTMLCanvasElement, Call[]>();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(function (this: HTMLCanvasElement) {
    const log: Call[] = [];
    calls.set(this, log);
    const ctx: Record<string, unknown> = { canvas: this, font: "", fillStyle: "" };
    const record = (op: string) => (...args: unknown[]) => {
      log.push({ op, args, font: String(ctx.font), fill: String(ctx.fillStyle) });
    };
    for (const op of ["fillText", "fillRect", "drawImage", "strokeRect", "setTransform", "save", "restore"]) ctx[op] = record(op);
    ctx.measureText = (t: string) => ({ width: measure(t, String(ctx.font)) });
    return ctx as unknown as RenderingContext;
  } as typeof HTMLCanvasElement.prototype.getContext);
  return calls;
}

const items = (texts: string[], special: number[] = []): ItemMeta[] =>
  texts.map((text, i) => ({ text, position: i, word: i, prompt: false, special: special.includes(i) }));

const view = (width: number, height: number, caption = "image 1 · 12×12 tokens") => ({ image: document.createElement("canvas"), width, height, caption, colormap: "jet" });

const spec = (views = [view(300, 200)]): FigureSpec => ({
  title: { before: [" a", " "], token: "red", after: [" striped", " shape"], lead: false, trail: false },
  label: "TAM (ECI + filter)",
  views,
});

describe("the title: the token in context", () => {
  const words = ["describe", " the", " picture", " .", " a", " red", " striped", " shape", " and", " a", " blue", " plain", " shape", "<|im_end|>"];

  it("takes up to 4 items either side, the token apart (its leading space outside the bold), special items left out", () => {
    const t = contextTitle(items(words, [13]), 5);
    expect(t).toEqual({ before: [" the", " picture", " .", " a", " "], token: "red", after: [" striped", " shape", " and", " a"], lead: true, trail: true });
    expect(titleRuns(t).map(([s]) => s)).toEqual(["… the picture . a ", "red", " striped shape and a…"]);
    expect(titleRuns(t)[1][1]).toBe(FONTS.token); // the token bold
    const end = contextTitle(items(words, [13]), 12); // the last shape: the end-of-turn token is not shown
    expect([end.after, end.trail]).toEqual([[], false]);
    expect(contextTitle(items(["a", "\n", "b"]), 1).token).toBe("⏎"); // a line break, visible
  });

  it("drops context from the far ends until it fits, marking it with …", () => {
    const t = contextTitle(items(words), 5);
    const short = fitTitle(t, 120, measure);
    expect(titleRuns(short).reduce((s, [text, font]) => s + measure(text, font), 0)).toBeLessThanOrEqual(120);
    expect(short.token).toBe("red");
    expect(short.lead && short.trail).toBe(true);
    expect(fitTitle(t, 10_000, measure)).toEqual(t);
  });
});

describe("the figure", () => {
  it("lays out title, views side by side and the colour bar beside them, in CSS px", () => {
    const one = figureLayout(spec(), measure);
    expect(one.views).toEqual([{ x: 16, y: 64, width: 300, height: 200 }]);
    expect(one.bar).toEqual({ x: 336, y: 64, width: 14, height: 200 });
    expect([one.width, one.height]).toEqual([402, 298]);
    const three = figureLayout(spec([view(300, 200), view(300, 300), view(200, 100)]), measure);
    expect(three.views.map((b) => [b.x, b.y])).toEqual([[16, 64], [328, 64], [640, 64]]);
    expect(three.bar.height).toBe(300); // as tall as the tallest view
    const wrapped = figureLayout(spec([view(700, 100), view(700, 100)]), measure);
    expect(wrapped.views[1]).toEqual({ x: 16, y: 64 + 100 + 18 + 12, width: 700, height: 100 }); // past 1200 px: a new row
  });

  it("draws at 2x: twice the CSS size, the views at their boxes, title, label, colour bar with ticks and the map's name", () => {
    const calls = recordCanvas();
    const s = spec();
    const out = compose(s, FIGURE_SCALE);
    if (!out) throw new Error("no figure");
    expect([out.canvas.width, out.canvas.height]).toEqual([2 * out.layout.width, 2 * out.layout.height]);
    const log = calls.get(out.canvas) ?? [];
    expect(log.find((c) => c.op === "setTransform")?.args).toEqual([2, 0, 0, 2, 0, 0]);
    expect(log.filter((c) => c.op === "drawImage").map((c) => c.args)).toEqual([[s.views[0].image, 16, 64, 300, 200]]);
    const texts = log.filter((c) => c.op === "fillText").map((c) => [c.args[0], c.font]);
    expect(texts.slice(0, 4)).toEqual([[" a ", FONTS.title], ["red", FONTS.token], [" striped shape", FONTS.title], ["TAM (ECI + filter)", FONTS.label]]);
    expect(texts.map((t) => t[0])).toEqual(expect.arrayContaining(["image 1 · 12×12 tokens", "0", "0.25", "0.5", "0.75", "1", "jet"]));
    // the bar: one device row per step, 1 (the table's last colour) at the top, 0 at the bottom
    const rows = log.filter((c) => c.op === "fillRect" && c.args[2] === 2 * 14);
    expect(rows.length).toBe(2 * 200);
    const t = lut("jet");
    expect([rows[0].fill, rows.at(-1)?.fill]).toEqual([`rgb(${t[765]}, ${t[766]}, ${t[767]})`, `rgb(${t[0]}, ${t[1]}, ${t[2]})`]);
    expect(rows[0].args.slice(0, 3)).toEqual([2 * 336, 2 * 64, 2 * 14]); // device pixels
    expect(compose(s, 1)?.canvas.width).toBe(out.layout.width);
  });

  it("has nothing to draw without views or without a 2D context", () => {
    recordCanvas();
    expect(compose(spec([]))).toBeNull();
    vi.restoreAllMocks();
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
    expect(compose(spec())).toBeNull();
    expect(savePng(spec(), "x.png")).toBe(false);
  });
});

describe("saving", () => {
  it("names the file after the token: letters, digits, - and _ only", () => {
    expect(fileName(3, " <img src=x>/..")).toBe("tam_3_img_src_x.png");
    expect(fileName(0, "  ")).toBe("tam_0.png");
    expect(fileName(7, " red")).toBe("tam_7_red.png");
  });

  it("collects each panel's view at 2x with the title and label", () => {
    const asked: number[] = [];
    const panels = [{ figureView: (scale: number) => (asked.push(scale), view(10, 10)) }];
    const s = figureSpec(items([" a", " red", " shape"]), 1, "CAM", panels);
    expect(asked).toEqual([2]);
    expect([s.title.token, s.label, s.views.length]).toEqual(["red", "CAM", 1]);
  });

  it("downloads the PNG and tells the page the figure's CSS size and scale", () => {
    vi.useFakeTimers();
    const calls = recordCanvas();
    const png = new Blob(["\x89PNG"], { type: "image/png" });
    const encoded: HTMLCanvasElement[] = [];
    vi.spyOn(HTMLCanvasElement.prototype, "toBlob").mockImplementation(function (this: HTMLCanvasElement, done) {
      encoded.push(this);
      done(png);
    });
    const names: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      names.push(this.download);
    });
    Object.assign(URL, { createObjectURL: () => "blob:x", revokeObjectURL: vi.fn() });
    const details: { scale: number; width: number; height: number; name: string }[] = [];
    const listen = (e: Event) => details.push((e as CustomEvent).detail);
    document.addEventListener("tam-saved", listen);
    expect(savePng(spec(), "tam_5_red.png")).toBe(true);
    document.removeEventListener("tam-saved", listen);
    expect(names).toEqual(["tam_5_red.png"]);
    expect(details.map((d) => [d.name, d.scale, d.width, d.height])).toEqual([["tam_5_red.png", 2, 402, 298]]);
    expect(encoded.map((c) => [c.width, c.height])).toEqual([[804, 596]]); // 2x the CSS size
    expect(calls.has(encoded[0])).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:x");
  });
});
