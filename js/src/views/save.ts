/** "Save PNG": the heatmap canvases side by side in one PNG, downloaded by the browser. */

const GAP = 8;

/** Compose the canvases into one; null where canvases cannot be drawn (no 2D context). */
export function compose(canvases: HTMLCanvasElement[]): HTMLCanvasElement | null {
  if (canvases.length === 0) return null;
  const out = document.createElement("canvas");
  out.width = canvases.reduce((s, c) => s + c.width, 0) + GAP * (canvases.length - 1);
  out.height = Math.max(...canvases.map((c) => c.height));
  const ctx = out.getContext("2d");
  if (!ctx) return null;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, out.width, out.height);
  let x = 0;
  for (const c of canvases) {
    ctx.drawImage(c, x, 0);
    x += c.width + GAP;
  }
  return out;
}

/** A file name from the token text: letters, digits, - and _ only. */
export function fileName(item: number, text: string): string {
  const safe = text.trim().replace(/[^\p{L}\p{N}_-]+/gu, "_").slice(0, 40).replace(/^_+|_+$/g, "");
  return `tam_${item}${safe ? `_${safe}` : ""}.png`;
}

/** Start the download; false if this environment cannot make the PNG. */
export function savePng(canvases: HTMLCanvasElement[], name: string): boolean {
  const canvas = compose(canvases);
  if (!canvas || typeof canvas.toBlob !== "function" || typeof URL.createObjectURL !== "function") return false;
  canvas.toBlob((blob) => {
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, "image/png");
  return true;
}
