/**
 * The rank Gaussian filter's weights from a window's sums, in the core's float32 steps
 * (tam_widget/core/rgf_tape.py): the exponent -1/(2 cv^2), and for the 3 x 3 window one exp and
 * its powers by Horner's rule. A multiply-add the core does with addcmul (a fused multiply-add, one
 * rounding) is one f32() of a float64 sum here: the product of two float32 values is exact in float64.
 */

const f32 = Math.fround;
const TINY = 2 ** -126; // float32's smallest normal: n var's floor (a constant window's weights vanish)
export const EXP_FLOOR = -87; // the lowest exponent of a weight, as the core's

/** A window whose sum is not positive gives 0 (NaN stays NaN, as the core's sign mask leaves it). */
export function masked(sum: number): number {
  return Number.isNaN(sum) ? NaN : 0;
}

/** The weights' exponent at rank distance 1, -1 / (2 cv^2), from a window's sum S and sum of squares Q
 * (n var = Q - S^2 / n, 1 / cv^2 = S (S / n var) / n), at least EXP_FLOOR. */
export function exponent(sum: number, squares: number, n: number): number {
  const nvar = Math.max(f32(squares + f32(f32(-1 / n) * sum) * sum), TINY);
  const e = f32(f32(f32(-0.5 / n) * f32(sum / nvar)) * sum);
  return e < EXP_FLOOR ? EXP_FLOOR : e;
}

/** The 3 x 3 window's value from its median and pair sums: one exp, the weights g, g^4, g^9, g^16 by Horner's
 * rule, num = x4 + g (s1 + g^3 (s2 + g^5 (s3 + g^7 s4))), den = 1 + 2 g (1 + g^3 (1 + g^5 (1 + g^7))). */
export function horner(x4: number, s1: number, s2: number, s3: number, s4: number, expo: number): number {
  const g = f32(Math.exp(expo));
  const g2 = f32(g * g);
  const g3 = f32(g2 * g);
  const g5 = f32(g3 * g2);
  const g7 = f32(g5 * g2);
  const num = f32(x4 + g * f32(s1 + g3 * f32(s2 + g5 * f32(s3 + g7 * s4))));
  const den = f32(1 + f32(2 * g) * f32(1 + g3 * f32(1 + g5 * f32(g7 + 1))));
  return f32(num / den);
}
