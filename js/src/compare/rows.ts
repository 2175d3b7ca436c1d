/** The alignment of two explanations' items (compare.py's rows): item -> row and row -> item, per side. */

import type { CompareMeta } from "./model";

export type Side = 0 | 1; // a, b

export class Rows {
  private readonly rowOf: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];

  constructor(readonly meta: CompareMeta) {
    meta.rows.forEach((pair, r) => {
      for (const s of [0, 1] as Side[]) if (pair[s] >= 0 && !this.rowOf[s].has(pair[s])) this.rowOf[s].set(pair[s], r);
    });
  }

  get length(): number {
    return this.meta.rows.length;
  }

  /** The row holding `item` of `side` (-1: none). */
  row(side: Side, item: number): number {
    return this.rowOf[side].get(item) ?? -1;
  }

  /** The item of `side` at `row`; -1 when that side has no token there. */
  item(side: Side, row: number): number {
    return this.meta.rows[row]?.[side] ?? -1;
  }

  /** The item `side` shows at `row`: its own, else the nearest earlier row's (a word only the other side has). */
  shown(side: Side, row: number): number {
    for (let r = Math.min(row, this.length - 1); r >= 0; r--) if (this.item(side, r) >= 0) return this.item(side, r);
    for (let r = row + 1; r < this.length; r++) if (this.item(side, r) >= 0) return this.item(side, r);
    return -1;
  }

  changed(side: Side, item: number): boolean {
    return Boolean(this.meta.changed[this.row(side, item)]);
  }
}
