// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ViewMeta } from "../src/codec";
import { alpha, lut } from "../src/colormap";
import { LocalState } from "../src/state/local";
import { axis, HeatmapPanel, nearestAxis } from "../src/views/heatmap";
import { ImageStore } from "../src/views/images";
import { compose, fileName } from "../src/views/save";
import { installMockCanvas } from "./mock-canvas";

afterEach(() => vi.restoreAllMocks());

function panel(grid: [number, number], box: number[], size = 100) {
  const contexts = installMockCanvas();
  const view: ViewMeta = { image: 0, kind: "image", grid, box, offset: 0, frames: [0] };
  const frames = [{ offset: 0, height: grid[0], width: grid[1] }];
  const p = new HeatmapPanel(view, 0, { first: 0, frames: 1, height: size, width: size }, frames, new LocalState(1), new ImageStore([], () => {}));
  const heat = [...contexts.values()].find((c) => c.canvas !== p.canvas);
  const main = contexts.get(p.canvas);
  if (!heat || !main) throw new Error("no mock context");
  return { p, heat, main };
}

const pixel = (img: ImageData, x: number, y: number) => [...img.data.slice(4 * (y * img.width + x), 4 * (y * img.width + x) + 4)];
// the table's colour with the alpha rule's alpha (colormap.ts alpha(): clear at 0, full from ALPHA_FULL up)
const jet = (i: number) => [...lut("jet").slice(3 * i, 3 * i + 3), Math.round(255 * alpha(i / 255))];

describe("heatmap", () => {
  it("maps pixel centres into grid cells, clamping at the edges", () => {
    const a = axis(4, 2, 0, 1);
    expect([a.start, a.end, [...a.i0], [...a.i1], [...a.t]]).toEqual([0, 4, [0, 0, 0, 1], [1, 1, 1, 1], [0, 0.25, 0.75, 0]]);
    const half = axis(4, 2, 0.5, 1.5); // a box past the image's right edge: only the right half is covered
    expect([half.start, half.end]).toEqual([2, 4]);
  });

  it("upsamples bilinearly, colours with the table and leaves pixels outside the box transparent", () => {
    const { p, heat } = panel([2, 2], [0.5, 0, 1.5, 1]);
    expect([p.canvas.width, p.canvas.height]).toEqual([256, 256]); // small images are drawn at 256 px
    p.draw(Float32Array.from([0, 1, 0, 1]), "jet", 0.5);
    const img = heat.images[0];
    expect(pixel(img, 0, 10)[3]).toBe(0);
    expect(pixel(img, 127, 200)[3]).toBe(0);
    expect(pixel(img, 128, 10)).toEqual(jet(0));
    const u = 255.5 / 256;
    const v = (u - 0.5) * 2 - 0.5; // grid coordinate of the last pixel, between the two columns
    expect(pixel(img, 255, 100)).toEqual(jet(Math.floor(v * 255)));
  });

  it("draws blocky cells when not smooth: one value per grid cell, a step between them", () => {
    const { p, heat } = panel([1, 2], [0, 0, 1, 1]);
    p.draw(Float32Array.from([0.2, 1]), "jet", 1, true, false);
    const row = Array.from({ length: 256 }, (_, x) => pixel(heat.images[0], x, 0));
    expect(row.slice(0, 128).every((px) => px.join() === jet(Math.floor(0.2 * 255)).join())).toBe(true);
    expect(row.slice(128).every((px) => px.join() === jet(255).join())).toBe(true);
    p.draw(Float32Array.from([0.2, 1]), "jet", 1, true, true); // the same ImageData, redrawn
    expect(pixel(heat.images[1], 127, 0)).not.toEqual(row[127]); // smooth: between the two cells
    expect(pixel(heat.images[1], 160, 0)).not.toEqual(row[160]);
    const n = nearestAxis(4, 2, 0, 1);
    expect([[...n.i0], [...n.t]]).toEqual([[0, 0, 1, 1], [0, 0, 0, 0]]);
  });

  it("leaves the heat layer clear where the map is not drawn (n/a, or no visual signal)", () => {
    const { p, heat } = panel([1, 2], [0, 0, 1, 1]);
    p.draw(Float32Array.from([1, 1]), "jet", 1, false);
    expect(heat.images[0].data.every((b) => b === 0)).toBe(true);
  });

  it("shows the original image beside the overlay only when asked", () => {
    const { p } = panel([1, 2], [0, 0, 1, 1]);
    expect(p.original.hidden).toBe(true);
    p.setOriginal(true);
    expect(p.original.hidden).toBe(false);
    expect([p.original.width, p.original.height]).toEqual([p.canvas.width, p.canvas.height]);
  });

  it("is smooth: values rise monotonically between two cells", () => {
    const { p, heat } = panel([1, 2], [0, 0, 1, 1]);
    p.draw(Float32Array.from([0, 1]), "viridis", 1);
    const reds = Array.from({ length: 256 }, (_, x) => pixel(heat.images[0], x, 0));
    const idx = reds.map((px) => {
      const t = lut("viridis");
      for (let i = 0; i < 256; i++) if (t[3 * i] === px[0] && t[3 * i + 1] === px[1] && t[3 * i + 2] === px[2]) return i;
      return -1;
    });
    expect(idx[0]).toBe(0);
    expect(idx[255]).toBe(255);
    expect(idx.every((i, x) => i >= 0 && (x === 0 || i >= idx[x - 1]))).toBe(true);
    expect(new Set(idx).size).toBeGreaterThan(100);
  });

  it("composes image then heat layer at the chosen opacity", () => {
    const { p, main } = panel([2, 2], [0, 0, 1, 1]);
    p.draw(new Float32Array(4), "jet", 0.3);
    p.compose(0.8);
    const last = main.draws[main.draws.length - 1];
    expect(last.alpha).toBe(0.8);
    expect(main.globalAlpha).toBe(1);
  });
});
