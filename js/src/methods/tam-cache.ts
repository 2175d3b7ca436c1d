/**
 * What a token switch would otherwise recompute: each item's interference E_v = omega_v @ A (the
 * one part of a map that costs O(v n_v)), kept once summed in a least-recently-used cache under a
 * byte budget, and summed ahead of time in the page's idle time, nearest the shown item first, in
 * slices of a few ms so input stays responsive. A switch never waits for it: an item not yet
 * cached is summed directly, as before.
 */

/** 256 MB of float32 maps: 18,432 cells x 2,048 items (151 MB) fits whole. */
export const BUDGET_BYTES = 256 * 2 ** 20;

export type CacheKey = number | string;

/** Float32 arrays by key, at most `budget` bytes, the least recently used dropped first. */
export class MapCache {
  private readonly maps = new Map<CacheKey, Float32Array>(); // insertion order = use order
  private used = 0;

  constructor(readonly budget: number = BUDGET_BYTES) {
    if (!(budget >= 0)) throw new RangeError(`budget ${budget} must be a number of bytes >= 0.`);
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.maps.size;
  }

  has(key: CacheKey): boolean {
    return this.maps.has(key);
  }

  /** Whether `bytes` more fit without dropping anything. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.budget;
  }

  /** The array under key (now the most recently used), or undefined. */
  get(key: CacheKey): Float32Array | undefined {
    const map = this.maps.get(key);
    if (map) {
      this.maps.delete(key);
      this.maps.set(key, map);
    }
    return map;
  }

  /** Keeps map under key, dropping the least recently used until it fits (one larger than the budget is not kept). */
  put(key: CacheKey, map: Float32Array): void {
    this.delete(key);
    if (map.byteLength > this.budget) return;
    for (const [old] of this.maps) {
      if (this.fits(map.byteLength)) break;
      this.delete(old);
    }
    this.maps.set(key, map);
    this.used += map.byteLength;
  }

  private delete(key: CacheKey): void {
    const map = this.maps.get(key);
    if (!map) return;
    this.maps.delete(key);
    this.used -= map.byteLength;
  }
}

/** A piece of work done in slices: step runs until it is done (true) or `until` (performance.now() ms) has passed. */
export interface Job {
  step(until: number): boolean;
}

/** Where idle time comes from: requestIdleCallback in a browser, else timeouts (tests pass their own). */
export interface IdleHost {
  request(run: (until: number) => void): number;
  cancel(handle: number): void;
}

export const SLICE_MS = 4;
/**
 * An idle callback's share of its idle period: Chrome runs a callback requested within an idle
 * callback in the next idle period only, so a 4 ms slice of a 50 ms period would leave most of it
 * unused; 12 ms keeps a key press or click waiting less than a frame.
 */
export const IDLE_SLICE_MS = 12;

export const DONE_MARK = "tam-precomputed";

/** requestIdleCallback where the browser has it (at most IDLE_SLICE_MS within its deadline), else setTimeout slices of SLICE_MS. */
export function browserIdle(idleSlice: number = IDLE_SLICE_MS, slice: number = SLICE_MS): IdleHost {
  const g = globalThis as { requestIdleCallback?: (cb: (d: { timeRemaining(): number }) => void) => number; cancelIdleCallback?: (h: number) => void };
  if (g.requestIdleCallback && g.cancelIdleCallback) {
    const [ric, cic] = [g.requestIdleCallback.bind(globalThis), g.cancelIdleCallback.bind(globalThis)];
    return { request: (run) => ric((d) => run(performance.now() + Math.min(idleSlice, d.timeRemaining()))), cancel: cic };
  }
  return {
    request: (run) => setTimeout(() => run(performance.now() + slice), 0) as unknown as number,
    cancel: (h) => clearTimeout(h),
  };
}

/** What the precompute works through: the items nearest `centre` first, a job for any not done yet (null: done or no room). */
export interface JobSource {
  order(centre: number): Iterable<number>;
  job(item: number): Job | null | "full";
}

/**
 * Runs a JobSource's jobs in idle slices, nearest the latest centre first; stops when every item
 * is done or the source says the cache is full, and for good on dispose.
 */
export class Precompute {
  private source: JobSource | null = null;
  private queue: Iterator<number> | null = null;
  private current: Job | null = null;
  private centre = -1;
  private handle: number | null = null;
  private disposed = false;

  constructor(private readonly idle: IdleHost) {}

  /** Work outward from `centre` in `source` (a new centre or source restarts the order). */
  start(source: JobSource, centre: number): void {
    if (this.disposed || (source === this.source && centre === this.centre)) return;
    this.source = source;
    this.centre = centre;
    this.queue = source.order(centre)[Symbol.iterator]();
    this.current = null;
    this.schedule();
  }

  /** Whether slices are still scheduled. */
  get running(): boolean {
    return this.handle !== null;
  }

  dispose(): void {
    this.disposed = true;
    if (this.handle !== null) this.idle.cancel(this.handle);
    this.handle = null;
    this.queue = null;
    this.current = null;
  }

  private schedule(): void {
    if (this.handle === null && !this.disposed) this.handle = this.idle.request((until) => this.slice(until));
  }

  private slice(until: number): void {
    this.handle = null;
    do {
      if (!this.current && !(this.current = this.nextJob())) return; // all done, or no room left
      if (this.current.step(until)) this.current = null;
    } while (performance.now() < until); // one step at least: a slice with no time left still moves on
    this.schedule();
  }

  private nextJob(): Job | null {
    for (let next = this.queue?.next(); next && !next.done; next = this.queue?.next()) {
      const job = this.source?.job(next.value);
      if (job === "full") break;
      if (job) return job;
    }
    this.queue = null;
    performance.mark?.(DONE_MARK); // for benchmarks: the idle work ran out (every item done, or the cache full)
    return null;
  }
}

/** 0 .. T-1 by distance from centre, the later of two equally near first (the answer reads on). */
export function* nearestFirst(centre: number, T: number): Generator<number> {
  const c = Math.min(Math.max(centre, 0), T - 1);
  for (let d = 0; d < T; d++) {
    if (c + d < T) yield c + d;
    if (d > 0 && c - d >= 0) yield c - d;
  }
}
