import type { Executor } from "../../db/types";
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
 * again; it never stops the loop.
 */
export function startWorkerLoop(db: Executor, options: WorkerLoopOptions): WorkerLoop {
  const { intervalMs, logIdle = false, ...invocation } = options;
  const stopping = new AbortController();
  const print = invocation.log ?? ((line: string) => console.log(line));
  const log = (line: string) => {
    const { claimed, swept } = JSON.parse(line) as { claimed?: number; swept?: number };
    if (logIdle || claimed || swept) print(line);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> | undefined;

  const tick = () => {
    timer = undefined;
    if (stopping.signal.aborted) return;
    current = runWorkerInvocation(db, { ...invocation, log, signal: stopping.signal })
      .then(
        () => undefined,
        (error: unknown) =>
          print(
            JSON.stringify({
              event: "worker.loop.error",
              error: error instanceof Error ? error.message : String(error),
            }),
          ),
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
