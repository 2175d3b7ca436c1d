/** A recording stand-in for CanvasRenderingContext2D, so drawing code runs under jsdom. */

import { vi } from "vitest";

export interface MockContext {
  canvas: HTMLCanvasElement;
  globalAlpha: number;
  fillStyle: string;
  images: ImageData[]; // what putImageData received
  draws: { source: unknown; alpha: number; args: number[] }[];
  createImageData(w: number, h: number): ImageData;
  putImageData(data: ImageData, x: number, y: number): void;
  drawImage(source: unknown, ...args: number[]): void;
  clearRect(): void;
  fillRect(): void;
  texts: string[]; // what fillText wrote
  font: string;
  measureText(text: string): { width: number };
  fillText(text: string): void;
  setTransform(): void;
  strokeRect(): void;
  save(): void;
  restore(): void;
  strokeStyle: string;
  lineWidth: number;
  lineCap: string;
  segments: number[][]; // each moveTo/lineTo pair stroked, [x0, y0, x1, y1]
  path: number[][];
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
}

export function installMockCanvas(): Map<HTMLCanvasElement, MockContext> {
  const contexts = new Map<HTMLCanvasElement, MockContext>();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(function (this: HTMLCanvasElement) {
    let ctx = contexts.get(this);
    if (!ctx) {
      ctx = {
        canvas: this,
        globalAlpha: 1,
        fillStyle: "",
        images: [],
        draws: [],
        createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(4 * w * h), colorSpace: "srgb" }) as ImageData,
        putImageData(data) {
          this.images.push(data);
        },
        drawImage(source, ...args) {
          this.draws.push({ source, alpha: this.globalAlpha, args });
        },
        clearRect() {},
        fillRect() {},
        texts: [],
        font: "10px sans-serif",
        measureText: (text) => ({ width: 6 * text.length }), // a fixed-pitch stand-in
        fillText(text) {
          this.texts.push(text);
        },
        setTransform() {},
        strokeRect() {},
        save() {},
        restore() {},
        strokeStyle: "",
        lineWidth: 1,
        lineCap: "butt",
        segments: [],
        path: [],
        beginPath() {
          this.path = [];
        },
        moveTo(x, y) {
          this.path.push([x, y]);
        },
        lineTo(x, y) {
          const last = this.path.at(-1);
          if (last) this.path[this.path.length - 1] = [...last.slice(0, 2), x, y];
        },
        stroke() {
          this.segments.push(...this.path);
        },
      };
      contexts.set(this, ctx);
    }
    return ctx as unknown as RenderingContext;
  } as typeof HTMLCanvasElement.prototype.getContext);
  return contexts;
}
