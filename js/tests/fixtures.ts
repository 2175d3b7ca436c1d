/** Loading the parity fixtures that js/tests/make_fixtures.py writes from the golden TAM cases. */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FrameMeta, WireMeta } from "../src/codec";

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export const MISSING_FIXTURES =
  `No parity fixtures in ${FIXTURE_DIR}. They are generated, not committed: from the repository root run\n` +
  "  PYTHONPATH=. python js/tests/make_fixtures.py   (or: PYTHON=/path/to/venv/bin/python npm run fixtures)\nwith the project's Python environment, then npm test again.";

export interface Expected {
  label: string;
  eci_scale: number;
  eci: boolean;
  filter: boolean;
  u8: number[];
  text: (number | null)[];
}

/** Candidate (class) maps at one item: u8 of classes ids[0..M-1], (M, n_v) row-major. */
export interface ExpectedClass {
  label: string;
  eci_scale: number;
  eci: boolean;
  filter: boolean;
  item: number;
  ids: number[];
  u8: number[];
}

export interface Fixture {
  name: string;
  T: number;
  n_v: number;
  n_prompt: number;
  n_answer: number;
  kernel: number;
  frames: FrameMeta[];
  A: number[];
  omega: number[];
  scale: (number | null)[];
  R: number[];
  n_visible: number[];
  wire: { data: string; meta: WireMeta };
  expected: Expected[];
  class_maps: ExpectedClass[];
}

/** floor(255 * x) clamped to 0..255 (NaN to 0): the core's TAMMaps.u8, which the fixtures hold. */
export function toU8(x: Float32Array, out: Uint8Array = new Uint8Array(x.length)): Uint8Array {
  for (let i = 0; i < x.length; i++) {
    const v = Math.floor(Math.fround(x[i] * 255));
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

export function fixtureNames(): string[] {
  if (!existsSync(FIXTURE_DIR)) return [];
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith(".json")).sort();
}

export function loadFixture(file: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, file), "utf8")) as Fixture;
}
