/**
 * Small promise tools for the worker's hot path, where a promise or a timer per job and per
 * check adds up: a demo job costs a few microseconds, and there are 13,000 of them a second.
 */

/** What withTimeout rejects with when its time passes: told apart from any error the work throws. */
export const TIMED_OUT = Symbol("timed out");

/** True for anything `await` would wait on; a synchronous generator's result skips the await. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Settles as `work` does, or rejects with TIMED_OUT after `ms`, calling `onTimeout` first so
 * the work can be told to stop. The work itself is not cancelled: it only loses its audience.
 */
export function withTimeout<T>(
  work: PromiseLike<T>,
  ms: number,
  onTimeout: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(TIMED_OUT);
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Bounded concurrency without a promise per waiting check: `acquire()` returns undefined when
 * a slot is free, so the caller awaits only when it must wait.
 */
export class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  acquire(): Promise<void> | undefined {
    if (this.free > 0) {
      this.free -= 1;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
