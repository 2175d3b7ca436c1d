import { describe, expect, it } from "vitest";
import { ALPHA_FULL, alpha, COLORMAP_NAMES, cssColor, gradientCss, index, lut, packedLut, rgb, textColor } from "../src/colormap";

describe("colormap", () => {
  it("holds OpenCV's COLORMAP_JET as RGB (dark blue -> cyan -> yellow -> dark red)", () => {
    const jet = lut("jet");
    expect(jet.length).toBe(768);
    expect(rgb("jet", 0)).toEqual([0, 0, 128]);
    expect(rgb("jet", 32 / 255)).toEqual([0, 0, 255]);
    expect(rgb("jet", 128 / 255)).toEqual([130, 255, 126]);
    expect(rgb("jet", 1)).toEqual([128, 0, 0]);
  });

  it("holds matplotlib's viridis", () => {
    expect(rgb("viridis", 0)).toEqual([68, 1, 84]);
    expect(rgb("viridis", 1)).toEqual([253, 231, 37]);
  });

  it("holds matplotlib's inferno (black -> purple -> orange -> pale yellow), perceptually ordered", () => {
    expect(COLORMAP_NAMES).toEqual(["jet", "viridis", "inferno"]);
    expect(lut("inferno").length).toBe(768);
    expect(lut("inferno")).not.toBe(lut("jet")); // not the fallback
    expect(rgb("inferno", 0)).toEqual([0, 0, 4]);
    expect(rgb("inferno", 128 / 255)).toEqual([188, 55, 84]);
    expect(rgb("inferno", 1)).toEqual([252, 255, 164]);
    // perceptually uniform maps get lighter along the table: luminance rises (almost) monotonically
    const lum = (x: number) => {
      const [r, g, b] = rgb("inferno", x);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    for (let i = 8; i <= 255; i += 8) expect(lum(i / 255)).toBeGreaterThan(lum((i - 8) / 255));
  });

  it("draws low values clear: alpha follows the value, full from ALPHA_FULL up", () => {
    expect([alpha(0), alpha(Number.NaN), alpha(-1), alpha(ALPHA_FULL / 2), alpha(ALPHA_FULL), alpha(1)]).toEqual([0, 0, 0, 0.5, 1, 1]);
    for (const name of COLORMAP_NAMES) {
      const packed = packedLut(name);
      const bytes = new Uint8Array(packed.buffer);
      const a = (i: number) => bytes[4 * i + 3]; // RGBA in memory, whatever the endianness
      expect([a(0), a(64), a(128), a(255)]).toEqual([0, Math.round(255 * alpha(64 / 255)), 255, 255]);
      expect([...bytes.slice(4 * 200, 4 * 200 + 3)]).toEqual([...lut(name).slice(600, 603)]); // the colour is the table's
      for (let i = 1; i < 256; i++) expect(a(i)).toBeGreaterThanOrEqual(a(i - 1));
    }
  });

  it("indexes by floor(255 x), clamped, and falls back to jet for unknown names", () => {
    expect([index(-1), index(0.5), index(1), index(2), index(Number.NaN)]).toEqual([0, 127, 255, 255, 0]);
    expect(lut("nope")).toBe(lut("jet"));
    expect(cssColor("jet", 1)).toBe("rgb(128, 0, 0)");
    expect(textColor("viridis", 1)).toBe("#000");
    expect(textColor("viridis", 0)).toBe("#fff");
    expect(gradientCss("jet", 2)).toBe("linear-gradient(to right, rgb(0, 0, 128) 0.0%, rgb(126, 255, 130) 50.0%, rgb(128, 0, 0) 100.0%)");
  });
});
