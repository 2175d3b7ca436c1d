// @vitest-environment jsdom
/** A hallucination diagnosis over the EAGLE view (views/diagnosis.ts): the banner's sentence in its three
 * cases, the cells outlined (removed share ≥ 0.5), the outline's segments under zoom, the panel's outline
 * layer and the curves' marker. */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ViewMeta } from "../src/codec";
import { LocalState } from "../src/state/local";
import { CurvesView } from "../src/views/curves";
import { bannerText, curveMarker, DiagnosisBanner, type DiagnosisMeta, flaggedIndices, outlinedCells, outlineSegments } from "../src/views/diagnosis";
import { HeatmapPanel } from "../src/views/heatmap";
import { ImageStore } from "../src/views/images";
import { FULL } from "../src/views/zoom";
import { installMockCanvas } from "./mock-canvas";

afterEach(() => vi.restoreAllMocks());

function diagnosis(over: Partial<DiagnosisMeta> = {}): DiagnosisMeta {
  return {
    item: 5, wrong: "red", correct: "blue", r: 0.025, k: 58, n_regions: 60, revised: "a blue plain shape .",
    removed: [0, 0.4, 0.5, 1, 0.49999], score_curve: { removed: [0, 1], p: [0.9, 0.1], says: [true, false] }, ...over,
  }; // prettier-ignore
}

describe("the banner", () => {
  it("says the words, the share removed and the regions, and the corrected answer", () => {
    expect(bannerText(diagnosis())).toBe(
      "Said 'red' where 'blue' is correct: removing the outlined 2.5% of the image (2 of 60 regions) corrects it → 'a blue plain shape .'",
    );
  });

  it("says when the full image is already correct", () => {
    const text = bannerText(diagnosis({ r: 0, k: 60, revised: "a blue dotted shape ." }));
    expect(text).toBe("Said 'red' where 'blue' is correct: already correct, the full image gives 'blue' → 'a blue dotted shape .'");
  });

  it("says when nothing corrects it", () => {
    expect(bannerText(diagnosis({ r: 1, k: null, revised: "" }))).toMatch(/^Said 'red' where 'blue' is correct: nothing corrects it/);
  });

  it("puts the words in as text, never as markup", () => {
    const b = new DiagnosisBanner(diagnosis({ wrong: "<img src=x onerror=alert(1)>" }));
    expect(b.el.querySelector("img")).toBeNull();
    expect(b.el.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(b.el.hidden).toBe(true);
    b.show(true);
    expect(b.el.hidden).toBe(false);
  });
});

describe("the outline", () => {
  it("outlines the cells the cut removes at least half of", () => {
    expect(flaggedIndices(outlinedCells(diagnosis().removed))).toEqual([2, 3]);
  });

  it("is the contour of the flagged cells, in the panel's cell geometry, through the zoom", () => {
    const flags = Uint8Array.from([1, 1, 0, 0]); // 2 x 2: the top row
    const segs = outlineSegments(flags, 0, 2, 2, [0, 0, 1, 1], FULL, 100, 100);
    expect(segs.length).toBe(6); // two cells: top, bottom and outer sides each; no edge between them
    expect(segs).toContainEqual([0, 0, 50, 0]);
    expect(segs).toContainEqual([50, 50, 100, 50]);
    expect(segs).not.toContainEqual([50, 0, 50, 50]);
    const zoomed = outlineSegments(flags, 0, 2, 2, [0, 0, 1, 1], { x: 0.5, y: 0, z: 2 }, 100, 100); // the right half
    expect(zoomed).toContainEqual([0, 100, 100, 100]); // the right cell's bottom, twice as wide
    const boxed = outlineSegments(Uint8Array.from([0, 1]), 0, 1, 2, [0.2, 0.5, 0.6, 1], FULL, 100, 100);
    expect(boxed).toContainEqual([40, 50, 60, 50]);
  });

  it("is drawn with the panel's map and lists its cells on the canvas", () => {
    const contexts = installMockCanvas();
    const view: ViewMeta = { image: 0, kind: "image", grid: [2, 2], box: [0, 0, 1, 1], offset: 0, frames: [0] };
    const p = new HeatmapPanel(view, 0, { first: 0, frames: 1, height: 100, width: 100 }, [{ offset: 0, height: 2, width: 2 }], new LocalState(1), new ImageStore([], () => {}));
    const main = contexts.get(p.canvas);
    if (!main) throw new Error("no mock context");
    p.draw(new Float32Array(4), "jet", 0.5);
    expect(main.segments.length).toBe(0);
    p.setOutline(Uint8Array.from([0, 0, 0, 1]));
    expect(p.canvas.dataset.outlined).toBe("3");
    const w = p.canvas.width;
    expect(main.segments).toContainEqual([w / 2, w / 2, w, w / 2]); // the bottom-right cell's top edge
    main.segments = [];
    p.draw(new Float32Array(4), "jet", 0.5); // a new map keeps the outline
    expect(main.segments.length).toBe(8); // drawn twice over (halo, line) x 4 edges
    p.setViewport({ x: 0.5, y: 0.5, z: 2 }); // the bottom-right quarter fills the canvas: so does the cell
    const z = p.canvas.width;
    expect(main.segments).toContainEqual([0, 0, z, 0]);
    expect(main.segments).toContainEqual([0, 0, 0, z]);
    p.setOutline(null);
    expect(p.canvas.dataset.outlined).toBeUndefined();
  });
});

describe("the curves' marker", () => {
  it("marks the cut at the share of the image it keeps, with r in the label", () => {
    expect(curveMarker(diagnosis())).toEqual({ x: 0.975, label: "cut: 2.5% removed", reads: "blue" });
    expect(curveMarker(diagnosis({ k: null }))).toBeNull();
    const curves = new CurvesView();
    const c = { x: [0, 1], y: [0, 1], auc: 0.5 };
    curves.update("EAGLE", 5, { insertion: c, deletion: c, meanInsertion: c, meanDeletion: c }, "red", curveMarker(diagnosis()));
    const m = curves.el.querySelector('[data-role="curve-marker"]');
    expect(m?.getAttribute("data-x")).toBe("0.975000");
    expect(m?.textContent).toBe("cut: 2.5% removed");
    expect(curves.el.querySelector("h4")?.textContent).toBe('Faithfulness curves of "blue" at "red"'); // p(correct word)
  });
});
