// @vitest-environment jsdom
/** Which picture a panel draws (display/images.py sends one per video grid step, at most 1024 px) and its type. */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ImageMeta, ViewMeta } from "../src/codec";
import { LocalState } from "../src/state/local";
import { HeatmapPanel } from "../src/views/heatmap";
import { ImageStore, pictureType } from "../src/views/images";
import { installMockCanvas } from "./mock-canvas";

afterEach(() => vi.restoreAllMocks());

/** A video view of `t` grid steps of 2 x 2 cells; a second still image before it takes picture 0. */
function videoPanel(t: number, image: ImageMeta) {
  const contexts = installMockCanvas();
  const frames = Array.from({ length: t + 1 }, (_, k) => ({ offset: 4 * k, height: 2, width: 2 }));
  const view: ViewMeta = { image: 1, kind: "video", grid: [t, 2, 2], box: [0, 0, 1, 1], offset: 4, frames: Array.from({ length: t }, (_, k) => k + 1) };
  const local = new LocalState(2);
  const images = new ImageStore([], () => {});
  const pictures = Array.from({ length: 20 }, (_, i) => ({ naturalWidth: 50, naturalHeight: 40, i }) as unknown as HTMLImageElement);
  const get = vi.spyOn(images, "get").mockImplementation((i) => pictures[i]);
  const p = new HeatmapPanel(view, 1, image, frames, local, images);
  const main = contexts.get(p.canvas);
  if (!main) throw new Error("no mock context");
  return { p, local, get, main, pictures, contexts };
}

describe("a video panel", () => {
  it("draws, at each grid step, the picture sent for that step", () => {
    const { p, local, get } = videoPanel(4, { first: 1, frames: 4, height: 80, width: 100 }); // one picture per step
    for (let k = 0; k < 4; k++) {
      local.setFrame(1, k);
      get.mockClear();
      p.compose();
      expect(get.mock.calls.map((c) => c[0])).toEqual([1 + k]);
    }
  });

  it("with every raw frame sent (views that step differently), the first raw frame of each step", () => {
    const { p, local, get } = videoPanel(4, { first: 1, frames: 8, height: 80, width: 100 });
    for (let k = 0; k < 4; k++) {
      local.setFrame(1, k);
      get.mockClear();
      p.compose();
      expect(get.mock.calls.map((c) => c[0])).toEqual([1 + 2 * k]);
    }
  });

  it("draws a picture smaller than the image over the whole canvas, zoomed parts by fractions", () => {
    const { p, pictures, contexts } = videoPanel(2, { first: 1, frames: 2, height: 80, width: 100 });
    p.resize(200, 1);
    p.setViewport({ x: 0.5, y: 0.25, z: 2 });
    const drawn = [...contexts.values()].flatMap((c) => c.draws).filter((d) => d.source === pictures[1]).at(-1); // into the panel's image layer
    expect(drawn?.args).toEqual([25, 10, 25, 20, 0, 0, p.canvas.width, p.canvas.height]); // of a 50 x 40 picture
  });
});

describe("pictureType", () => {
  const view = (bytes: number[]) => new DataView(Uint8Array.from(bytes).buffer);
  it("is image/jpeg for JPEG bytes and image/png otherwise", () => {
    expect(pictureType(view([0xff, 0xd8, 0xff, 0xe0]))).toBe("image/jpeg");
    expect(pictureType(view([0x89, 0x50, 0x4e, 0x47]))).toBe("image/png");
    expect(pictureType(view([0xff]))).toBe("image/png");
  });
});
