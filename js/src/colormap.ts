/**
 * Colour maps as 256-entry RGB lookup tables, indexed by the u8 value floor(255 * x).
 *
 * jet: OpenCV's COLORMAP_JET (what the paper's figures use), taken from cv2.applyColorMap on
 * 0..255 (OpenCV 5.0) and converted to RGB. viridis and inferno: matplotlib's (_cm_listed.py),
 * each channel round(255 * c) (OpenCV's COLORMAP_VIRIDIS gives the same bytes). Stored as hex so
 * the tables are exact. jet stays the default (the paper's); viridis and inferno are perceptually
 * uniform.
 *
 * The heat layer's alpha follows the value (alpha()): low values are clear, so the image's own
 * colours show wherever the map is low; the opacity trait scales the largest alpha.
 *
 * rdbu (DIVERGING): ColorBrewer's RdBu reversed (plotly's "RdBu_r" stops, linearly interpolated to
 * 256 entries, rounded), for signed maps drawn as (1 + x) / 2: blue negative, white 0, red
 * positive; its alpha follows |x|, so where the two maps agree the image shows. Not a colormap
 * trait value: the contrast mode uses it.
 */

export type ColormapName = "jet" | "viridis" | "inferno";

export const COLORMAP_NAMES: readonly ColormapName[] = ["jet", "viridis", "inferno"];

/** Values at or above this are drawn at full alpha (times the opacity); below, alpha falls linearly to 0 at 0. */
export const ALPHA_FULL = 0.5;

/** The heat layer's alpha (before the opacity) of a value in [0, 1]: min(1, x / ALPHA_FULL); 0 for 0 and NaN. */
export function alpha(x: number): number {
  return x > 0 ? Math.min(1, x / ALPHA_FULL) : 0;
}

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

const INFERNO_HEX =
  "00000401000501010601010802010a02020c02020e03021004031204031405041706041907051b08051d09061f0a0722" +
  "0b07240c08260d08290e092b10092d110a30120a32140b34150b37160b39180c3c190c3e1b0c411c0c431e0c451f0c48" +
  "210c4a230c4c240c4f260c51280b53290b552b0b572d0b592f0a5b310a5c320a5e340a5f3609613809623909633b0964" +
  "3d09653e0966400a67420a68440a68450a69470b6a490b6a4a0c6b4c0c6b4d0d6c4f0d6c510e6c520e6d540f6d550f6d" +
  "57106e59106e5a116e5c126e5d126e5f136e61136e62146e64156e65156e67166e69166e6a176e6c186e6d186e6f196e" +
  "71196e721a6e741a6e751b6e771c6d781c6d7a1d6d7c1d6d7d1e6d7f1e6c801f6c82206c84206b85216b87216b88226a" +
  "8a226a8c23698d23698f24699025689225689326679526679727669827669a28659b29649d29649f2a63a02a63a22b62" +
  "a32c61a52c60a62d60a82e5fa92e5eab2f5ead305dae305cb0315bb1325ab3325ab43359b63458b73557b93556ba3655" +
  "bc3754bd3853bf3952c03a51c13a50c33b4fc43c4ec63d4dc73e4cc83f4bca404acb4149cc4248ce4347cf4446d04545" +
  "d24644d34743d44842d54a41d74b3fd84c3ed94d3dda4e3cdb503bdd513ade5238df5337e05536e15635e25734e35933" +
  "e45a31e55c30e65d2fe75e2ee8602de9612bea632aeb6429eb6628ec6726ed6925ee6a24ef6c23ef6e21f06f20f1711f" +
  "f1731df2741cf3761bf37819f47918f57b17f57d15f67e14f68013f78212f78410f8850ff8870ef8890cf98b0bf98c0a" +
  "f98e09fa9008fa9207fa9407fb9606fb9706fb9906fb9b06fb9d07fc9f07fca108fca309fca50afca60cfca80dfcaa0f" +
  "fcac11fcae12fcb014fcb216fcb418fbb61afbb81dfbba1ffbbc21fbbe23fac026fac228fac42afac62df9c72ff9c932" +
  "f9cb35f8cd37f8cf3af7d13df7d340f6d543f6d746f5d949f5db4cf4dd4ff4df53f4e156f3e35af3e55df2e661f2e865" +
  "f2ea69f1ec6df1ed71f1ef75f1f179f2f27df2f482f3f586f3f68af4f88ef5f992f6fa96f8fb9af9fc9dfafda1fcffa4";

const RDBU_HEX =
  "05306106326407346708366a09386d0a3b700c3d730d3f760e41790f437b10457e114781124984134c87144e8a15508d" +
  "1752901854931956961a58991b5a9c1c5c9f1d5fa21e61a51f63a82065ab2267ac2369ad246aae266caf276eb02870b1" +
  "2a71b22b73b32c75b42e77b52f79b5307ab6327cb7337eb83480b93681ba3783bb3885bc3a87bd3b88be3c8abe3e8cbf" +
  "3f8ec0408fc14291c24393c34695c44997c54c99c64f9bc7529dc8569fc959a1ca5ca3cb5fa5cd62a7ce65a9cf68abd0" +
  "6bacd16eaed271b0d375b2d478b4d57bb6d67eb8d781bad884bcd987beda8ac0db8dc2dc90c4dd93c6de96c7df98c8e0" +
  "9bc9e09dcbe1a0cce2a2cde3a5cee3a7d0e4a9d1e5acd2e5aed3e6b1d5e7b3d6e8b6d7e8b8d8e9bbdaeabddbeac0dceb" +
  "c2ddecc5dfecc7e0edcae1eecce2efcfe4efd1e5f0d2e6f0d4e6f1d5e7f1d7e8f1d8e9f1dae9f2dbeaf2ddebf2deebf2" +
  "e0ecf3e1edf3e3edf3e4eef4e6eff4e7f0f4e9f0f4eaf1f5ecf2f5edf2f5eff3f5f0f4f6f2f5f6f3f5f6f5f6f7f6f7f7" +
  "f7f6f6f7f5f4f8f4f2f8f3f0f8f2eff8f1edf9f0ebf9efe9f9eee7f9ede5f9ebe3faeae1fae9dffae8defae7dcfbe6da" +
  "fbe5d8fbe4d6fbe3d4fce2d2fce0d0fcdfcffcdecdfdddcbfddcc9fddbc7fdd9c4fcd7c2fcd5bffcd3bcfbd0b9fbceb7" +
  "fbccb4facab1fac8aff9c6acf9c4a9f9c2a7f8bfa4f8bda1f8bb9ef7b99cf7b799f7b596f6b394f6b191f6af8ef5ac8b" +
  "f5aa89f5a886f4a683f3a481f2a17ff19e7df09c7bef9979ee9677ec9374eb9172ea8e70e98b6ee8896ce6866ae58368" +
  "e48066e37e64e27b62e17860df765ede735cdd7059dc6e57db6b55da6853d86551d7634fd6604dd55d4cd35a4ad25849" +
  "d05548cf5246ce4f45cc4c44cb4942c94741c84440c6413ec53e3dc43b3cc2383ac13639bf3338be3036bd2d35bb2a34" +
  "ba2832b82531b72230b61f2eb41c2db3192cb1182bae172aab162aa81529a51429a213289f12289c1127991027960f27" +
  "930e26900d268d0c258a0b25870a248409248108237f08237c07227906227605217304217003206d02206a011f67001f";

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The diverging table for signed maps (contrast mode). */
export const DIVERGING = "rdbu";
type TableName = ColormapName | typeof DIVERGING;

const TABLES: Record<TableName, Uint8Array> = {
  jet: fromHex(JET_HEX),
  viridis: fromHex(VIRIDIS_HEX),
  inferno: fromHex(INFERNO_HEX),
  rdbu: fromHex(RDBU_HEX),
};

/** A signed value in [-1, 1] as the [0, 1] value the diverging table is indexed with. */
export function signedToUnit(x: number): number {
  return (1 + x) / 2;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const PACKED = new Map<TableName, Uint32Array>();

/**
 * The table as 256 RGBA pixels packed for a Uint32Array view of ImageData (one store per pixel),
 * entry i with alpha round(255 * alpha(i / 255)). ImageData is not premultiplied, so the colour stays
 * the table's and only its weight over the image falls with the value.
 */
export function packedLut(name: string): Uint32Array {
  const key = tableName(name);
  let out = PACKED.get(key);
  if (!out) {
    const t = TABLES[key];
    out = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = [t[3 * i], t[3 * i + 1], t[3 * i + 2]];
      const a = Math.round(255 * (key === DIVERGING ? alpha(Math.abs(2 * (i / 255) - 1)) : alpha(i / 255)));
      out[i] = LITTLE_ENDIAN ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
    }
    PACKED.set(key, out);
  }
  return out;
}

function isColormap(name: unknown): name is ColormapName {
  return (COLORMAP_NAMES as readonly unknown[]).includes(name);
}

function tableName(name: string): TableName {
  return name === DIVERGING ? DIVERGING : isColormap(name) ? name : "jet";
}

/** The (256 * 3) RGB table; an unknown name falls back to jet. */
export function lut(name: string): Uint8Array {
  return TABLES[tableName(name)];
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
