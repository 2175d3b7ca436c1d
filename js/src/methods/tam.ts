/**
 * TAM (Li et al., ICCV 2025) in the browser: reads the arrays tam_widget/methods/tam.py sends
 * (A, omega, scale, R, n_visible and the filter's kernel) and recomputes any item's map for the
 * ECI scale and filter toggles (tam-math.ts, tam-filter.ts).
 */

import { readFloat32, readInt32, WireError } from "../arrays";
import type { Layout, MethodPart } from "../codec";
import { clamp, type Settings } from "../state/synced";
import type { ItemMaps, MethodImpl, MethodMaps } from "./index";
import { computeItem, type MapSettings, type TamData, Workspace } from "./tam-math";

/** lambda = eci ? eci_scale clamped to 0..2 : 0, and the filter toggle. */
export function mapSettings(s: Settings): MapSettings {
  return { lambda: s.eci ? clamp(s.eciScale, 0, 2) : 0, filter: s.filter };
}

/** What the current settings compute, in the paper's words. */
export function methodLabel(s: Settings): string {
  const { lambda, filter } = mapSettings(s);
  if (lambda === 0) return filter ? "CAM + rank Gaussian filter (no ECI)" : "CAM";
  const eci = lambda === 1 ? "ECI" : `ECI ×${lambda.toFixed(2)}`;
  return filter ? `TAM (${eci} + filter)` : `${eci}, no filter`;
}

/** TAM's part of the wire as typed views on buf, checked against the shared layout. */
function decodeTam(buf: ArrayBuffer, part: MethodPart, layout: Layout): TamData {
  const { T, nv } = layout;
  const a = part.arrays ?? {};
  const data: TamData = {
    T,
    nv,
    A: readFloat32(buf, "A", a.A, [T, nv]),
    omega: readFloat32(buf, "omega", a.omega, [T, T]),
    scale: readFloat32(buf, "scale", a.scale, [T]),
    R: readFloat32(buf, "R", a.R, [T, T]),
    nVisible: readInt32(buf, "n_visible", a.n_visible, [T]),
    kernel: checkKernel(part.kernel),
    frames: layout.frames,
  };
  checkVisible(data);
  return data;
}

function checkKernel(k: unknown): number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k % 2 === 0) throw new WireError(`Kernel ${k} must be an odd integer >= 1.`);
  return k;
}

function checkVisible(data: TamData): void {
  for (let v = 0; v < data.T; v++) {
    const n = data.nVisible[v];
    if (n < 0 || n > data.T) throw new WireError(`n_visible[${v}] = ${n} is outside 0..${data.T}.`);
  }
}

/** Decoded TAM data and the workspace its maps are computed in (allocated once). */
export class TamMaps implements MethodMaps {
  private readonly ws: Workspace;

  constructor(readonly data: TamData) {
    this.ws = new Workspace(data.nv, data.T, data.kernel);
  }

  compute(item: number, params: MapSettings): ItemMaps {
    return computeItem(this.data, item, params, this.ws);
  }
}

export const TAM = {
  title: "TAM",
  decode: (buf: ArrayBuffer, part: MethodPart, layout: Layout) => new TamMaps(decodeTam(buf, part, layout)),
  params: mapSettings,
  label: methodLabel,
} satisfies MethodImpl;
