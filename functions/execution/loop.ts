import type { Executor } from "../../db/types";
import { isConnectionFailure } from "../domain/errors";
import { type InvocationOptions, runWorkerInvocation } from "./invocation";

export interface WorkerLoopOptions extends Omit<InvocationOptions, "signal" | "invocationId"> {
  /** Pause between the end of one invocation and the start of the next. */
  intervalMs: number;
  /** Also log invocations that found nothing to do (default: only those that did something). */
  logIdle?: boolean;
}

export interface WorkerLoop {
  /**
   * Jobs were created: start an invocation now instead of at the next interval. While one is
   * running, the next starts as soon as it ends (the running one may have made its last claim
   * already). Any number of wake-ups while one is pending count as one.
   */
  wake(): void;
  /** Stops claiming, lets the running invocation finish its claimed jobs, then resolves. */
  stop(): Promise<void>;
}

/**
 * Runs worker invocations one after another, `intervalMs` apart, as a Cron trigger would
 * (`npm start` runs this beside the API; `npm run worker` without --once runs it alone).
 * An invocation that fails (the database unreachable, say) is logged and the next one tries
 * again; it never stops the loop. Jobs the failed invocation claimed but could not finish
 * are not taken up again: they stay RUNNING until their lease lapses and the sweep fails
 * them LEASE_EXPIRED. `wake()` (a job was just created) starts the next invocation at once; the
 * interval stays as the safety net for jobs whose wake-up was lost.
 */
export function startWorkerLoop(db: Executor, options: WorkerLoopOptions): WorkerLoop {
  const { intervalMs, logIdle = false, ...invocation } = options;
  const stopping = new AbortController();
  const print = invocation.log ?? ((line: string) => console.log(line));
  const log = (line: string) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    // Idle invocations stay quiet; one that did anything, or failed at something, is logged.
    const alerted = e.alert === "sent" || e.alert === "failed";
    const acted =
      e.claimed || e.swept || e.expired || e.sealed || alerted || e.error || e.sealError;
    if (logIdle || acted) print(line);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> | undefined;
  /** A wake-up arrived while an invocation was running: the next one starts without a pause. */
  let woken = false;

  const tick = () => {
    timer = undefined;
    woken = false;
    if (stopping.signal.aborted) return;
    current = runWorkerInvocation(db, { ...invocation, log, signal: stopping.signal })
      .then(
        () => undefined,
        (error: unknown) => print(loopErrorLine(error)),
      )
      .finally(() => {
        current = undefined;
        if (!stopping.signal.aborted) timer = setTimeout(tick, woken ? 0 : intervalMs);
      });
  };
  timer = setTimeout(tick, 0);

  return {
    wake() {
      if (stopping.signal.aborted) return;
      if (current) {
        woken = true;
      } else if (timer) {
        clearTimeout(timer);
        timer = setTimeout(tick, 0);
      }
    },
    async stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}

/**
 * A failed invocation's log line. A lost database connection is an outage, not a bug: the
 * driver's words and `databaseUnavailable`, rather than the whole statement Drizzle quotes.
 */
function loopErrorLine(error: unknown): string {
  if (!isConnectionFailure(error)) {
    return JSON.stringify({
      event: "worker.loop.error",
      error: error instanceof Error ? error.message : String(error),
    });
  }
  let root = error;
  for (let depth = 0; depth < 5 && (root as { cause?: unknown }).cause; depth++) {
    root = (root as { cause: unknown }).cause;
  }
  return JSON.stringify({
    event: "worker.loop.error",
    databaseUnavailable: true,
    error: root instanceof Error ? root.message : String(root),
  });
}
