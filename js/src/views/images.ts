/** Decoding the pictures of the _images trait (PNG or JPEG: display/images.py) into drawable images, lazily and once each. */

import { copyBytes } from "../arrays";

export type Drawable = ImageBitmap | HTMLImageElement;

export class ImageStore {
  private readonly ready = new Map<number, Drawable>();
  private readonly started = new Set<number>();
  private readonly urls: string[] = [];
  private disposed = false;

  constructor(
    private readonly pngs: readonly DataView[],
    private readonly onReady: () => void,
  ) {}

  /** The decoded image, or null while it loads (onReady fires when it arrives) or if it cannot be decoded here. */
  get(index: number): Drawable | null {
    const img = this.ready.get(index);
    if (img) return img;
    if (!this.started.has(index)) this.load(index);
    return null;
  }

  dispose(): void {
    this.disposed = true;
    for (const img of this.ready.values()) if ("close" in img) img.close();
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.ready.clear();
  }

  private load(index: number): void {
    this.started.add(index);
    const bytes = this.pngs[index];
    if (!bytes) return;
    const blob = new Blob([copyBytes(bytes)], { type: pictureType(bytes) });
    const done = (img: Drawable) => {
      if (this.disposed) return;
      this.ready.set(index, img);
      this.onReady();
    };
    const fail = (err: unknown) => console.warn(`tam-widget: image ${index} could not be decoded`, err);
    if (typeof createImageBitmap === "function") {
      createImageBitmap(blob).then(done, fail);
    } else if (typeof URL.createObjectURL === "function" && typeof Image === "function") {
      const url = URL.createObjectURL(blob);
      this.urls.push(url);
      const img = new Image();
      img.onload = () => done(img);
      img.onerror = fail;
      img.src = url;
    } // else: no way to decode here (e.g. jsdom); the heatmap is drawn without its image
  }
}

/** A picture's MIME type by its first bytes: JPEG (FF D8 FF) or else PNG. */
export function pictureType(bytes: DataView): string {
  const jpeg = bytes.byteLength >= 3 && bytes.getUint8(0) === 0xff && bytes.getUint8(1) === 0xd8 && bytes.getUint8(2) === 0xff;
  return jpeg ? "image/jpeg" : "image/png";
}
