/**
 * Colour maps as 256-entry RGB lookup tables, indexed by the u8 value floor(255 * x).
 *
 * jet: OpenCV's COLORMAP_JET (what the paper's figures use), taken from cv2.applyColorMap on
 * 0..255 (OpenCV 5.0) and converted to RGB. viridis: matplotlib's, rounded to u8 (OpenCV's
 * COLORMAP_VIRIDIS gives the same bytes). Stored as hex so the tables are exact.
 */

export type ColormapName = "jet" | "viridis";

export const COLORMAP_NAMES: readonly ColormapName[] = ["jet", "viridis"];

const JET_HEX =
  "00008000008400008800008c00009000009400009800009c0000a00000a40000a80000ac0000b00000b40000b80000bc" +
  "0000c00000c40000c80000cc0000d00000d40000d80000dc0000e00000e40000e80000ec0000f00000f40000f80000fc" +
  "0000ff0004ff0008ff000cff0010ff0014ff0018ff001cff0020ff0024ff0028ff002cff0030ff0034ff0038ff003cff" +
  "0040ff0044ff0048ff004cff0050ff0054ff0058ff005cff0060ff0064ff0068ff006cff0070ff0074ff0078ff007cff" +
  "0080ff0084ff0088ff008cff0090ff0094ff0098ff009cff00a0ff00a4ff00a8ff00acff00b0ff00b4ff00b8ff00bcff" +
  "00c0ff00c4ff00c8ff00ccff00d0ff00d4ff00d8ff00dcff00e0ff00e4ff00e8ff00ecff00f0ff00f4ff00f8ff00fcff" +
  "02fffe06fffa0afff60efff212ffee16ffea1affe61effe222ffde26ffda2affd62effd232ffce36ffca3affc63effc2" +
  "42ffbe46ffba4affb64effb252ffae56ffaa5affa65effa262ff9e66ff9a6aff966eff9272ff8e76ff8a7aff867eff82" +
  "82ff7e86ff7a8aff768eff7292ff6e96ff6a9aff669eff62a2ff5ea6ff5aaaff56aeff52b2ff4eb6ff4abaff46beff42" +
  "c2ff3ec6ff3acaff36ceff32d2ff2ed6ff2adaff26deff22e2ff1ee6ff1aeaff16eeff12f2ff0ef6ff0afaff06feff01" +
  "fffc00fff800fff400fff000ffec00ffe800ffe400ffe000ffdc00ffd800ffd400ffd000ffcc00ffc800ffc400ffc000" +
  "ffbc00ffb800ffb400ffb000ffac00ffa800ffa400ffa000ff9c00ff9800ff9400ff9000ff8c00ff8800ff8400ff8000" +
  "ff7c00ff7800ff7400ff7000ff6c00ff6800ff6400ff6000ff5c00ff5800ff5400ff5000ff4c00ff4800ff4400ff4000" +
  "ff3c00ff3800ff3400ff3000ff2c00ff2800ff2400ff2000ff1c00ff1800ff1400ff1000ff0c00ff0800ff0400ff0000" +
  "fc0000f80000f40000f00000ec0000e80000e40000e00000dc0000d80000d40000d00000cc0000c80000c40000c00000" +
  "bc0000b80000b40000b00000ac0000a80000a40000a000009c00009800009400009000008c0000880000840000800000";

const VIRIDIS_HEX =
  "44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769" +
  "48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a" +
  "472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85" +
  "4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b" +
  "3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d" +
  "33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e" +
  "2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e" +
  "26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d" +
  "21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88" +
  "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81" +
  "28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74" +
  "3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863" +
  "5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d" +
  "84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32" +
  "addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a" +
  "d8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725";

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const TABLES: Record<ColormapName, Uint8Array> = { jet: fromHex(JET_HEX), viridis: fromHex(VIRIDIS_HEX) };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const PACKED = new Map<ColormapName, Uint32Array>();

/** The table as 256 opaque RGBA pixels packed for a Uint32Array view of ImageData (one store per pixel). */
export function packedLut(name: string): Uint32Array {
  const key: ColormapName = isColormap(name) ? name : "jet";
  let out = PACKED.get(key);
  if (!out) {
    const t = TABLES[key];
    out = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = [t[3 * i], t[3 * i + 1], t[3 * i + 2]];
      out[i] = LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
    }
    PACKED.set(key, out);
  }
  return out;
}

function isColormap(name: unknown): name is ColormapName {
  return name === "jet" || name === "viridis";
}

/** The (256 * 3) RGB table; an unknown name falls back to jet. */
export function lut(name: string): Uint8Array {
  return TABLES[isColormap(name) ? name : "jet"];
}

/** The table index of a value in [0, 1]: floor(255 * x), clamped (NaN gives 0). */
export function index(x: number): number {
  const i = Math.floor(x * 255);
  return i > 0 ? (i < 255 ? i : 255) : 0;
}

export function rgb(name: string, x: number): [number, number, number] {
  const t = lut(name);
  const i = 3 * index(x);
  return [t[i], t[i + 1], t[i + 2]];
}

export function cssColor(name: string, x: number): string {
  const [r, g, b] = rgb(name, x);
  return `rgb(${r}, ${g}, ${b})`;
}

/** Black or white, whichever reads better on the colour of x (relative luminance). */
export function textColor(name: string, x: number): string {
  const [r, g, b] = rgb(name, x);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 140 ? "#000" : "#fff";
}

/** A CSS linear-gradient of the map from 0 (left) to 1 (right), for legends. */
export function gradientCss(name: string, stops = 16): string {
  const parts: string[] = [];
  for (let i = 0; i <= stops; i++) parts.push(`${cssColor(name, i / stops)} ${((100 * i) / stops).toFixed(1)}%`);
  return `linear-gradient(to right, ${parts.join(", ")})`;
}
