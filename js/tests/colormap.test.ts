import { describe, expect, it } from "vitest";
import { cssColor, gradientCss, index, lut, rgb, textColor } from "../src/colormap";

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

  it("indexes by floor(255 x), clamped, and falls back to jet for unknown names", () => {
    expect([index(-1), index(0.5), index(1), index(2), index(Number.NaN)]).toEqual([0, 127, 255, 255, 0]);
    expect(lut("nope")).toBe(lut("jet"));
    expect(cssColor("jet", 1)).toBe("rgb(128, 0, 0)");
    expect(textColor("viridis", 1)).toBe("#000");
    expect(textColor("viridis", 0)).toBe("#fff");
    expect(gradientCss("jet", 2)).toBe("linear-gradient(to right, rgb(0, 0, 128) 0.0%, rgb(126, 255, 130) 50.0%, rgb(128, 0, 0) 100.0%)");
  });
});
