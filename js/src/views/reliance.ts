/**
 * How much each answer token relies on the image (EAGLE's R_t, MethodMaps.reliance) as a quiet
 * diverging tint of the text: min-max over the tokens the method explained, in the reference's
 * matplotlib bwr hues (red: vision-driven, blue: prior- or context-driven, white between). Only the
 * hue's alpha varies, at most RELIANCE_ALPHA like the relevance shade, so the text stays legible.
 */

/** bwr's two ends, and the largest alpha of the tint (tokens.ts' MAX_ALPHA). */
export const RED = "255, 0, 0";
export const BLUE = "0, 0, 255";
export const RELIANCE_ALPHA = 0.4;

/** Per item, its reliance min-max normalised over the finite values (all equal: 0.5); NaN stays NaN. */
export function relianceUnits(values: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return values.map((v) => (!Number.isFinite(v) ? Number.NaN : hi > lo ? (v - lo) / (hi - lo) : 0.5));
}

/** A normalised reliance u in [0, 1] as a background: blue below 0.5, red above, alpha growing with |2u - 1|. */
export function relianceColour(u: number): string {
  const s = 2 * Math.min(1, Math.max(0, u)) - 1;
  const alpha = Math.round(100 * RELIANCE_ALPHA * Math.abs(s)) / 100;
  return `rgba(${s >= 0 ? RED : BLUE}, ${alpha})`;
}

/** The tint's scale from 0 (prior) to 1 (image), for the legend. */
export function relianceGradient(): string {
  return `linear-gradient(to right, ${relianceColour(0)}, ${relianceColour(0.5)} 50%, ${relianceColour(1)})`;
}

/** A word's (or token's) value: the mean over its items that have one; NaN when none has. */
export function unitReliance(items: readonly number[], units: Float32Array): number {
  let sum = 0;
  let n = 0;
  for (const i of items) {
    const v = units[i];
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : Number.NaN;
}
