/**
 * Paints that come in a burst: the settings steps of a slider drag (the ECI scale, a video's frame),
 * each asking the token view to shade the text again. A switch (another token) and a lone step paint
 * at once; a step that follows another within SETTLE_MS is part of a drag: the drag starts (start()),
 * its latest paint runs at most every THROTTLE_MS, and once no step came for SETTLE_MS the drag
 * settles (settle()) and the latest paint runs (the trailing paint). The map follows every step
 * (App.redraw); only the text's shade waits.
 */

/** How long after a step the next one still belongs to the same drag, and the least time between two paints within one. */
export const SETTLE_MS = 250;
export const THROTTLE_MS = 100;

export interface DragHooks {
  start(): void; // a drag began: its steps are about to be painted
  settle(): void; // the drag ended (settled or interrupted by a switch)
}

export class DragThrottle {
  private lastStep = Number.NEGATIVE_INFINITY;
  private lastPaint = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: (() => void) | null = null;

  constructor(
    private readonly hooks: DragHooks,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Whether a drag is on. */
  get dragging(): boolean {
    return this.timer !== null;
  }

  /** A switch: any drag ends, and `paint` runs now. */
  now(paint: () => void): void {
    this.stop();
    this.lastStep = Number.NEGATIVE_INFINITY;
    this.run(paint);
  }

  /** A settings step: `paint` runs now if the step is a lone one, else within the drag's throttle (only the latest). */
  step(paint: () => void): void {
    const now = this.clock();
    const burst = this.dragging || now - this.lastStep < SETTLE_MS;
    this.lastStep = now;
    if (!burst) return this.run(paint);
    if (!this.dragging) this.hooks.start();
    this.pending = paint;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settled(), SETTLE_MS);
    if (now - this.lastPaint >= THROTTLE_MS) this.flush();
  }

  /** No timer left and nothing more painted (a rebuild or the view going away). */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    this.lastStep = Number.NEGATIVE_INFINITY;
  }

  private settled(): void {
    this.timer = null;
    this.hooks.settle();
    this.flush();
  }

  /** End a drag that is on (its pending paint is dropped: what comes next paints anew). */
  private stop(): void {
    if (!this.dragging) return;
    this.cancel();
    this.hooks.settle();
  }

  private flush(): void {
    const paint = this.pending;
    this.pending = null;
    if (paint) this.run(paint);
  }

  private run(paint: () => void): void {
    this.lastPaint = this.clock();
    paint();
  }
}
