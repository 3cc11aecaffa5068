import { isConnectionFailure } from "../domain/errors";
import type { Outcome } from "./claimer";
import { describeError, failure } from "./job-failure";

/**
 * Writes one batch of outcomes in one statement and returns the ids of the jobs it finished;
 * the others were no longer this claim's. Throws when the database refuses the batch as a whole.
 * In the worker it is claimer.ts's `finishJobs` bound to the invocation's claim.
 */
export type BatchWriter = (batch: Outcome[]) => Promise<Set<string>>;

/** What the finisher counts; an InvocationResult is one. */
export interface FinisherCounts {
  completed: number;
  failed: number;
  /** Outcomes the writer did not take because the job was no longer this claim's. */
  refused: number;
  /** Outcomes lost with the database connection; their jobs are left to the sweep. */
  unwritten?: number;
  timings: { finishMs: number };
}

/** Results wait at most this long for more to share their transaction. */
const LINGER_MS = 20;
/** Finishing transactions in flight at once; more results wait (back-pressure on the runner). */
const MAX_FINISHES_IN_FLIGHT = 2;

/**
 * Collects outcomes and writes them in batches of up to `batchSize`, each in one statement,
 * at most MAX_FINISHES_IN_FLIGHT at once, on their own connections beside the claims: a group
 * commit, where whatever finished during one write goes into the next. A batch the database
 * refuses as a whole (a connection lost, an output it cannot store) is split and retried, so
 * one bad outcome cannot hold the others back. A lone output still refused is recorded as the
 * job's failure, OUTPUT_REJECTED: the job did run, and its error says why there is no output.
 * A lone failure still refused leaves its job RUNNING, and the sweeper fails it LEASE_EXPIRED.
 */
export class Finisher {
  private buffer: Outcome[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly writeBatch: BatchWriter,
    private readonly batchSize: number,
    private readonly counts: FinisherCounts,
  ) {}

  add(outcome: Outcome): void {
    this.buffer.push(outcome);
    if (this.buffer.length >= this.batchSize) this.pump();
    else this.timer ??= setTimeout(() => this.pump(), LINGER_MS);
  }

  /** Pending while a full batch waits for a free write: the runner pauses meanwhile. */
  ready(): Promise<void> | undefined {
    if (this.buffer.length < this.batchSize) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Writes everything added so far; resolves when nothing is left to write. */
  async close(): Promise<void> {
    while (this.buffer.length > 0 || this.inFlight.size > 0) {
      this.pump();
      await Promise.race(this.inFlight);
    }
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.buffer.length > 0 && this.inFlight.size < MAX_FINISHES_IN_FLIGHT) {
      const write = this.write(this.buffer.splice(0, this.batchSize)).finally(() => {
        this.inFlight.delete(write);
        // Group commit: what finished while this batch was written goes next, without lingering.
        this.pump();
        if (this.buffer.length < this.batchSize) {
          for (const wake of this.roomWaiters.splice(0)) wake();
        }
      });
      this.inFlight.add(write);
    }
  }

  private async write(batch: Outcome[]): Promise<void> {
    const t = performance.now();
    // Outputs are hashed by the statement that stores them (claimer.ts, finishJobs).
    await this.record(batch);
    this.counts.timings.finishMs += performance.now() - t;
  }

  private async record(batch: Outcome[]): Promise<void> {
    let finished: Set<string>;
    try {
      finished = await this.writeBatch(batch);
    } catch (error) {
      // The database went away: nothing was refused, nothing was written. Splitting would only
      // add load to a database that is down, and the output was fine: the jobs stay RUNNING and
      // the sweep fails them LEASE_EXPIRED, for a human to retry.
      if (isConnectionFailure(error)) {
        this.counts.unwritten = (this.counts.unwritten ?? 0) + batch.length;
        return;
      }
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.record(batch.slice(0, half));
        await this.record(batch.slice(half));
        return;
      }
      const only = batch[0] as Outcome;
      if (only.ok) {
        await this.record([
          failure(
            only.jobId,
            "OUTPUT_REJECTED",
            `the database refused the output: ${describeError(error)}`,
          ),
        ]);
      }
      return;
    }
    for (const o of batch) {
      if (!finished.has(o.jobId)) this.counts.refused += 1;
      else if (o.ok) this.counts.completed += 1;
      else this.counts.failed += 1;
    }
  }
}
