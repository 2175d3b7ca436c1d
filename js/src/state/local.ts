// Local state: browser-only, never synced to Python: the hovered item (a preview), each video view's
// frame, and the candidate picked at an item (its map, or a contrast of two).

/** At `item`, show token `a`'s map instead of the item's own, or with `b` the contrast map(a) - map(b). */
export interface CandidatePick {
  item: number;
  a: number; // token id
  b: number | null; // token id subtracted, or null: no contrast
}

export class LocalState {
  /** Item under the pointer, shown instead of the selected one while the pointer stays. */
  hover: number | null = null;
  /** Per view, the position in view.frames on show (0 for still images). */
  readonly frames: number[];
  private readonly listeners = new Set<() => void>();

  constructor(nViews: number) {
    this.frames = new Array<number>(nViews).fill(0);
  }

  /** The candidate picked at an item (null: every item shows its own map). */
  pick: CandidatePick | null = null;

  setPick(pick: CandidatePick | null): void {
    const p = this.pick;
    if (p === pick || (p && pick && p.item === pick.item && p.a === pick.a && p.b === pick.b)) return;
    this.pick = pick;
    this.emit();
  }

  setHover(item: number | null): void {
    if (item === this.hover) return;
    this.hover = item;
    this.emit();
  }

  setFrame(view: number, frame: number): void {
    if (this.frames[view] === frame) return;
    this.frames[view] = frame;
    this.emit();
  }

  /** Call fn after every change; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}
