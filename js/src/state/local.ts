// Local state: browser-only, never synced to Python: the hovered item (a preview) and each video view's frame.

export class LocalState {
  /** Item under the pointer, shown instead of the selected one while the pointer stays. */
  hover: number | null = null;
  /** Per view, the position in view.frames on show (0 for still images). */
  readonly frames: number[];
  private readonly listeners = new Set<() => void>();

  constructor(nViews: number) {
    this.frames = new Array<number>(nViews).fill(0);
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
