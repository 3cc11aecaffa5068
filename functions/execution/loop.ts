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
  /** Stops claiming, lets the running invocation finish its claimed jobs, then resolves. */
  stop(): Promise<void>;
}

/**
 * Runs worker invocations one after another, `intervalMs` apart, as a Cron trigger would
 * (`npm start` runs this beside the API; `npm run worker` without --once runs it alone).
 * An invocation that fails (the database unreachable, say) is logged and the next one tries
 * again; it never stops the loop. Jobs the failed invocation claimed but could not finish
 * are not taken up again: they stay RUNNING until their lease lapses and the sweep fails
 * them LEASE_EXPIRED.
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

  const tick = () => {
    timer = undefined;
    if (stopping.signal.aborted) return;
    current = runWorkerInvocation(db, { ...invocation, log, signal: stopping.signal })
      .then(
        () => undefined,
        (error: unknown) => print(loopErrorLine(error)),
      )
      .finally(() => {
        current = undefined;
        if (!stopping.signal.aborted) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, 0);

  return {
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
