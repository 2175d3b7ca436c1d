// @vitest-environment jsdom
/** The panel's size (layout.ts), zoom and pan (zoom.ts) and how a zoomed panel redraws (heatmap.ts). */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ViewMeta } from "../src/codec";
import { alpha, lut } from "../src/colormap";
import { LocalState } from "../src/state/local";
import { HeatmapPanel } from "../src/views/heatmap";
import { ImageStore } from "../src/views/images";
import { backingSize, fitWidth, MIN_FIT, PanelLayout, panelWidth, type Sized } from "../src/views/layout";
import { cellAt, clampView, FULL, MAX_ZOOM, panBy, toImage, type Viewport, zoomAt } from "../src/views/zoom";
import { installMockCanvas } from "./mock-canvas";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

const near = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 12));

describe("zoom and pan", () => {
  it("zooming around a point keeps the image point under it fixed", () => {
    const starts: Viewport[] = [FULL, { x: 0.2, y: 0.3, z: 2 }, { x: 0.5, y: 0.1, z: 3 }];
    for (const v of starts)
      for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.7], [0.9, 0.1]])
        for (const f of [1.25, 2, 0.8]) {
          const next = zoomAt(v, f, fx, fy);
          if (next.z === 1) continue; // zoomed all the way out: the whole image, nothing to keep
          near(toImage(next, fx, fy), toImage(v, fx, fy));
          expect(next.z).toBeCloseTo(Math.min(MAX_ZOOM, v.z * f), 12);
        }
  });

  it("zoom stays in [1, MAX_ZOOM]: out past 1 is the whole image, in past the limit stops", () => {
    expect(zoomAt({ x: 0.3, y: 0.3, z: 1.5 }, 0.1, 0.2, 0.2)).toEqual(FULL);
    expect(zoomAt(FULL, 1e6).z).toBe(MAX_ZOOM);
    expect(clampView({ x: NaN, y: -3, z: Infinity })).toEqual({ x: 0, y: 0, z: 1 });
  });

  it("panning moves with the pointer and clamps at the image's edges", () => {
    const v = { x: 0.25, y: 0.25, z: 2 }; // the middle half
    near(Object.values(panBy(v, 0.1, -0.2)), [0.2, 0.35, 2]); // drag right and up: the view moves left and down
    expect(panBy(v, 10, 10)).toEqual({ x: 0, y: 0, z: 2 }); // far right/down: the top-left edge stops it
    expect(panBy(v, -10, -10)).toEqual({ x: 0.5, y: 0.5, z: 2 }); // the bottom-right edge
    expect(panBy(FULL, 0.3, 0.3)).toEqual(FULL); // unzoomed: nothing to pan
  });

  it("maps a canvas point to its grid cell through the zoom", () => {
    const v = zoomAt(FULL, 2); // the middle half
    expect(cellAt(...toImage(v, 0, 0), 4, 4, [0, 0, 1, 1])).toEqual([1, 1]);
    expect(cellAt(...toImage(v, 0.99, 0.51), 4, 4, [0, 0, 1, 1])).toEqual([2, 2]);
    expect(cellAt(...toImage(FULL, 0.1, 0.1), 2, 2, [0.5, 0, 1, 1])).toBeNull(); // left of the box
  });
});

describe("panel size", () => {
  it("fit: panels share the width, at least MIN_FIT each, wrapping past that", () => {
    expect(fitWidth(1000, 1)).toBe(1000);
    expect(fitWidth(1000, 3)).toBe(Math.floor((1000 - 16) / 3));
    expect(fitWidth(400, 3)).toBe(400); // one a row
    expect(fitWidth(600, 3)).toBe(296); // two a row
    expect(fitWidth(600, 3)).toBeGreaterThanOrEqual(MIN_FIT);
    expect(panelWidth("fit", 1, 900, 600)).toBe(600); // no taller than maxHeight
    expect(panelWidth("fit", 0.5, 900, 600)).toBe(900);
    expect([panelWidth("S", 1, 0, 0), panelWidth("M", 0.75, 0, 0), panelWidth("L", 2, 0, 0)]).toEqual([256, 384, 256]);
  });

  it("canvas pixels: the image's own unzoomed (a canvas pixel is an image pixel), the screen's when zoomed", () => {
    expect(backingSize(336, 336, 600, 1, 1)).toEqual([336, 336]);
    expect(backingSize(336, 336, 600, 1, 2)).toEqual([600, 600]);
    expect(backingSize(336, 168, 600, 2, 3)).toEqual([1200, 600]); // device pixels on a 2x screen
    expect(backingSize(2000, 1000, 600, 1, 1)).toEqual([600, 300]); // a large image: up to what the screen shows
    expect(backingSize(336, 336, 300, 1, 1)).toEqual([336, 336]); // a smaller panel: still the image's own pixels
    expect(backingSize(2000, 1000, 300, 1, 1)).toEqual([512, 256]); // ... kept in 256..512
    expect(backingSize(100, 100, 0, 1, 1)).toEqual([256, 256]); // size not known yet: as before (256..512)
    expect(backingSize(2000, 1000, 0, 1, 1)).toEqual([512, 256]);
  });

  it("follows the container's width through a ResizeObserver, and the size buttons", () => {
    const observed: (() => void)[] = [];
    vi.stubGlobal("ResizeObserver", class {
      constructor(fn: () => void) { observed.push(fn); }
      observe() {}
      disconnect() {}
    });
    let width = 1000;
    const area = document.createElement("div");
    Object.defineProperty(area, "clientWidth", { get: () => width });
    const column = document.createElement("div");
    const sizes: number[][] = [[], []];
    const panels: Sized[] = [0, 1].map((i) => ({ aspect: 0.5, resize: (css) => sizes[i].push(css), setOriginal: () => {} }));
    const layout = new PanelLayout(panels, column, area);
    expect(sizes.map((s) => s.at(-1))).toEqual([496, 496]); // two side by side in 1000 px
    expect(column.classList.contains("is-fit")).toBe(true);
    width = 1400;
    observed[0]();
    expect(sizes[0].at(-1)).toBe(696); // wider area, wider panels (> 384)
    width = 1410;
    observed[0]();
    expect(sizes[0].length).toBe(2); // a few px (a scrollbar) changes nothing
    layout.setOriginal(true); // four canvases now
    expect(sizes[0].at(-1)).toBe(Math.floor((1410 - 24) / 4));
    layout.el.querySelector<HTMLButtonElement>('[data-size="M"]')?.click();
    expect(sizes[0].at(-1)).toBe(384);
    expect(column.classList.contains("is-fit")).toBe(false);
    expect(layout.el.querySelector('[aria-pressed="true"]')?.textContent).toBe("M");
  });

  it("fit, held by the window's height: the column is no wider than the panel, so the text column takes the rest", () => {
    const area = document.createElement("div");
    let width = 1000;
    Object.defineProperty(area, "clientWidth", { get: () => width });
    const column = document.createElement("div");
    const sizes: number[] = [];
    const layout = new PanelLayout([{ aspect: 1, resize: (css) => sizes.push(css), setOriginal: () => {} }], column, area);
    const limit = window.innerHeight - 160;
    expect([sizes.at(-1), column.style.maxWidth]).toEqual([limit, `${limit}px`]);
    width = limit; // the column shrank to it: laid out again, the same
    layout.setMode("fit");
    expect([sizes.at(-1), column.style.maxWidth]).toEqual([limit, `${limit}px`]);
    layout.setMode("L");
    expect(column.style.maxWidth).toBe("");
  });
});

describe("a zoomed panel", () => {
  function panel(grid: [number, number]) {
    const contexts = installMockCanvas();
    const view: ViewMeta = { image: 0, kind: "image", grid, box: [0, 0, 1, 1], offset: 0, frames: [0] };
    const frames = [{ offset: 0, height: grid[0], width: grid[1] }];
    const images = new ImageStore([], () => {});
    const p = new HeatmapPanel(view, 0, { first: 0, frames: 1, height: 100, width: 100 }, frames, new LocalState(1), images);
    const heat = [...contexts.values()].find((c) => c.canvas !== p.canvas);
    const main = contexts.get(p.canvas);
    if (!heat || !main) throw new Error("no mock context");
    return { p, heat, main, images, contexts };
  }
  const jet = (v: number) => [...lut("jet").slice(3 * Math.floor(v * 255), 3 * Math.floor(v * 255) + 3), Math.round(255 * alpha(v))];
  const row = (img: ImageData, y: number) => Array.from({ length: img.width }, (_, x) => [...img.data.slice(4 * (y * img.width + x), 4 * (y * img.width + x) + 4)]);

  it("redraws the visible part of the map at the screen's resolution", () => {
    const { p, heat } = panel([1, 2]);
    p.resize(300, 2);
    p.draw(Float32Array.from([0.2, 1]), "jet", 1, true, false); // blocky: the left half 0.2, the right half 1
    expect([p.canvas.width, heat.images.at(-1)?.width]).toEqual([256, 256]); // unzoomed: as the image (at least 256)
    expect(p.canvas.style.width).toBe("300px");
    p.setViewport(zoomAt(FULL, 2, 0, 0.5)); // the left half, magnified
    const zoomed = heat.images.at(-1) as ImageData;
    expect([p.canvas.width, zoomed.width]).toEqual([600, 600]); // 300 CSS px at 2 device px each
    expect(row(zoomed, 10).every((px) => px.join() === jet(0.2).join())).toBe(true); // only the left cell on show
    p.setViewport(panBy(p.viewport, -10, 0)); // dragged far left: the right half
    expect(row(heat.images.at(-1) as ImageData, 10).every((px) => px.join() === jet(1).join())).toBe(true);
    p.setViewport(FULL);
    const whole = row(heat.images.at(-1) as ImageData, 10);
    expect([whole[0], whole[255]]).toEqual([jet(0.2), jet(1)]);
  });

  it("draws only the visible part of the image, and maps canvas points to cells through the zoom", () => {
    const { p, images, contexts } = panel([4, 4]);
    const img = { naturalWidth: 100, naturalHeight: 100 } as HTMLImageElement;
    vi.spyOn(images, "get").mockReturnValue(img);
    p.resize(200, 1);
    p.setViewport({ x: 0.25, y: 0.5, z: 2 });
    const drawn = [...contexts.values()].flatMap((c) => c.draws).filter((d) => d.source === img).at(-1); // into the image layer
    expect(drawn?.args).toEqual([25, 50, 50, 50, 0, 0, 200, 200]);
    expect(p.cellAt(0, 0)).toEqual([2, 1]);
    expect(p.cellAt(0.99, 0.99)).toEqual([3, 2]);
    p.setViewport(FULL);
    expect(p.cellAt(0.99, 0.99)).toEqual([3, 3]);
  });

  it("resamples the image once per picture, size and zoom: a settings step copies it under the new heat layer", () => {
    const { p, main, heat, images, contexts } = panel([1, 2]);
    const img = { naturalWidth: 100, naturalHeight: 100 } as HTMLImageElement;
    const other = { naturalWidth: 100, naturalHeight: 100 } as HTMLImageElement;
    const get = vi.spyOn(images, "get").mockReturnValue(img);
    const resampled = () => [...contexts.values()].flatMap((c) => c.draws).filter((d) => d.source === img || d.source === other).length;
    p.resize(200, 1);
    p.draw(Float32Array.from([0.2, 1]), "jet", 0.5);
    expect(resampled()).toBe(1); // at the resize; the draw reuses it
    const layer = main.draws.at(-2)?.source as HTMLCanvasElement; // the image layer, then the heat layer
    for (const v of [0.3, 0.5, 0.7]) p.draw(Float32Array.from([v, 1]), "jet", 0.5); // a slider drag: three steps
    p.compose(0.8);
    expect(resampled()).toBe(1); // only copied
    expect(main.draws.slice(-8).map((d) => [d.source, d.alpha, d.args.join()])).toEqual(
      [0.5, 0.5, 0.5, 0.8].flatMap((a) => [[layer, 1, "0,0"], [heat.canvas, a, "0,0"]]),
    );
    expect([layer.width, layer.height]).toEqual([p.canvas.width, p.canvas.height]);
    p.setViewport({ x: 0.25, y: 0.5, z: 2 }); // zoomed: at the new part and size
    expect([resampled(), layer.width, p.canvas.width]).toEqual([2, 200, 200]); // 200 CSS px at 1 device px (256 unzoomed)
    p.setOriginal(true); // the original beside: the same copy, nothing resampled
    expect([resampled(), contexts.get(p.original)?.draws.at(-1)?.source]).toEqual([2, layer]);
    get.mockReturnValue(other); // another picture (a video's next frame)
    p.compose();
    expect(resampled()).toBe(3);
  });

  it("+, −, reset and Ctrl + wheel change the zoom; a plain wheel does not", () => {
    const { p } = panel([2, 2]);
    const click = (role: string) => p.el.querySelector<HTMLButtonElement>(`[data-role="${role}"]`)?.click();
    const reset = p.el.querySelector<HTMLButtonElement>('[data-role="zoom-reset"]');
    expect(reset?.disabled).toBe(true);
    click("zoom-in");
    expect(p.viewport.z).toBe(1.5);
    expect(p.el.querySelector('[data-role="zoom-level"]')?.textContent).toBe("1.5×");
    expect(reset?.disabled).toBe(false);
    click("zoom-out");
    expect(p.viewport).toEqual(FULL);
    p.canvas.dispatchEvent(new WheelEvent("wheel", { deltaY: -200, cancelable: true }));
    expect(p.viewport).toEqual(FULL);
    const wheel = new WheelEvent("wheel", { deltaY: -200, ctrlKey: true, cancelable: true });
    p.canvas.dispatchEvent(wheel);
    expect(p.viewport.z).toBeCloseTo(Math.exp(0.5), 12);
    expect(wheel.defaultPrevented).toBe(true); // the page does not zoom too
    p.canvas.dispatchEvent(new MouseEvent("dblclick"));
    expect(p.viewport).toEqual(FULL);
  });
});
