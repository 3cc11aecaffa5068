import type { JobError } from "../../db/schema";
import type { Executor } from "../../db/types";
import { canonicalJson, sha256Hex } from "../domain/canonical-json";
import { newId } from "../domain/ids";
import {
  type Claimant,
  claimJobs,
  finishJobs,
  type Outcome,
  renewLeases,
  sweepExpiredLeases,
} from "./claimer";
import type { WorkerConfig } from "./config";
import {
  builtInGenerators,
  type ClaimedJob,
  type GeneratorContext,
  GeneratorError,
  type GeneratorRegistry,
} from "./generators";

export interface InvocationOptions {
  /** Stop claiming after this long; jobs already claimed still run to their end. */
  budgetMs: number;
  /** Generators running at once. */
  concurrency: number;
  /** Jobs per claim statement, and at most this many per finishing transaction. */
  batchSize: number;
  leaseSeconds?: number;
  /** Per generator run; past it the job fails with GENERATOR_TIMEOUT. */
  jobTimeoutMs?: number;
  /** Default: the built-in `demo`, and `http` without a URL (its jobs fail HTTP_NOT_CONFIGURED). */
  generators?: GeneratorRegistry;
  invocationId?: string;
  /** Stops claiming when aborted (the loop's stop()); running jobs still finish. */
  signal?: AbortSignal;
  /** Receives the invocation's one structured log line; default console.log. */
  log?: (line: string) => void;
}

export interface InvocationResult {
  invocationId: string;
  claimed: number;
  completed: number;
  failed: number;
  /** Jobs of any worker failed with LEASE_EXPIRED by this invocation's sweep. */
  swept: number;
  /** Outcomes the database did not take because the job was no longer this claim's. */
  refused: number;
  /** Claim statements issued (the last one usually finds nothing). */
  passes: number;
  durationMs: number;
  /** Where the time went: sums of the time spent in each kind of step (steps overlap). */
  timings: { sweepMs: number; claimMs: number; generatorMs: number; finishMs: number };
}

export const DEFAULT_LEASE_SECONDS = 300;
export const DEFAULT_JOB_TIMEOUT_MS = 60_000;
/** Results wait at most this long for more to share their transaction. */
const LINGER_MS = 20;
/** Finishing transactions in flight at once; more results wait (back-pressure on the runner). */
const MAX_FINISHES_IN_FLIGHT = 2;
const MAX_MESSAGE_CHARS = 2000;
const TIMED_OUT = Symbol("timed out");

/**
 * One worker invocation, as a Cron trigger, the loop of `npm start` or `npm run worker --once`
 * runs it: sweep lapsed leases, then claim a batch, run its generators (at most `concurrency`
 * at once), record each outcome, and claim again — until nothing is claimable or the budget
 * is spent. The next batch is claimed as soon as the last job of the current one has started,
 * so slow generators overlap the claim; outcomes are written in batches by a finisher that
 * runs beside the claims. Generator errors, timeouts and unknown generators fail their job,
 * never the invocation. Logs one JSON line and returns the counts.
 */
export async function runWorkerInvocation(
  db: Executor,
  options: InvocationOptions,
): Promise<InvocationResult> {
  const started = performance.now();
  const invocationId = options.invocationId ?? newId();
  const claimant: Claimant = { workerId: invocationId, actor: `worker:${invocationId}` };
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const registry = options.generators ?? builtInGenerators({ timeoutMs: jobTimeoutMs });
  const leaseMs = leaseSeconds * 1000;
  if (jobTimeoutMs >= leaseMs) {
    throw new Error(
      "the job timeout must be shorter than the lease, or jobs lose their claim mid-run",
    );
  }
  // A job starts only with room for its whole timeout left on its lease (and a margin).
  const renewBelowMs = jobTimeoutMs + Math.min(1000, (leaseMs - jobTimeoutMs) / 2);
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  const slots = new Semaphore(Math.max(1, Math.floor(options.concurrency)));
  const deadline = Date.now() + options.budgetMs;
  const result: InvocationResult = {
    invocationId,
    claimed: 0,
    completed: 0,
    failed: 0,
    swept: 0,
    refused: 0,
    passes: 0,
    durationMs: 0,
    timings: { sweepMs: 0, claimMs: 0, generatorMs: 0, finishMs: 0 },
  };
  const finisher = new Finisher(db, claimant, batchSize, result);
  const running = new Set<Promise<void>>();
  let failure: unknown;
  try {
    let t = performance.now();
    result.swept = await sweepAll(db, claimant.actor);
    result.timings.sweepMs = performance.now() - t;

    while (Date.now() < deadline && !options.signal?.aborted) {
      t = performance.now();
      const claimedAt = Date.now();
      const claimed = await claimJobs(db, claimant, { batchSize, leaseSeconds });
      result.timings.claimMs += performance.now() - t;
      result.passes += 1;
      if (claimed.length === 0) break;
      result.claimed += claimed.length;
      let queue: ClaimedJob[] = claimed.map((job) => ({
        ...job,
        leaseExpiresAtMs: claimedAt + leaseMs,
      }));
      for (let i = 0; i < queue.length; i++) {
        const slot = slots.acquire();
        if (slot) await slot;
        const room = finisher.ready();
        if (room) await room;
        let job = queue[i] as ClaimedJob;
        // Slow generators and a big batch: the last jobs could start with too little lease
        // left to finish. Renew the rest of the batch, in one statement, before that happens.
        if (job.leaseExpiresAtMs - Date.now() < renewBelowMs) {
          const rest = queue.slice(i);
          const renewedAt = Date.now();
          const renewed = await renewLeases(
            db,
            claimant,
            rest.map((j) => j.id),
            leaseSeconds,
          );
          // A job whose lease lapsed is the sweeper's now: leave it, run none of it.
          queue = rest
            .filter((j) => renewed.has(j.id))
            .map((j) => ({ ...j, leaseExpiresAtMs: renewedAt + leaseMs }));
          i = 0;
          if (queue.length === 0) {
            slots.release();
            break;
          }
          job = queue[0] as ClaimedJob;
        }
        const run: Promise<void> = execute(job, registry, jobTimeoutMs, result).then((outcome) =>
          finisher.add(outcome),
        );
        running.add(run);
        void run.finally(() => {
          running.delete(run);
          slots.release();
        });
      }
    }
  } catch (error) {
    failure = error;
  }
  await Promise.all(running);
  await finisher.close();
  result.durationMs = performance.now() - started;
  const log = options.log ?? ((line: string) => console.log(line));
  log(
    JSON.stringify({
      event: "worker.invocation",
      invocationId,
      claimed: result.claimed,
      completed: result.completed,
      failed: result.failed,
      swept: result.swept,
      refused: result.refused,
      passes: result.passes,
      durationMs: Math.round(result.durationMs),
      batchSize,
      concurrency: options.concurrency,
      ...(failure ? { error: describe(failure) } : {}),
    }),
  );
  if (failure) throw failure;
  return result;
}

async function sweepAll(db: Executor, actor: string): Promise<number> {
  let total = 0;
  for (;;) {
    const swept = await sweepExpiredLeases(db, actor, 1000);
    total += swept.length;
    if (swept.length < 1000) return total;
  }
}

/** Runs one job's generator; every way it can end becomes an outcome, never an exception. */
async function execute(
  job: ClaimedJob,
  registry: GeneratorRegistry,
  jobTimeoutMs: number,
  result: InvocationResult,
): Promise<Outcome> {
  const generator = registry.get(job.generator);
  if (!generator) {
    return failed(job, "UNKNOWN_GENERATOR", `no generator named "${job.generator}" is installed`);
  }
  // Most generators never look at the signal; an AbortController per job is made only on demand.
  let controller: AbortController | undefined;
  const ctx: GeneratorContext = {
    job,
    retryDepth: job.retryDepth,
    get signal() {
      controller ??= new AbortController();
      return controller.signal;
    },
  };
  const t = performance.now();
  try {
    let value = generator.run(job.input, ctx);
    if (isThenable(value)) {
      value = await withTimeout(value, jobTimeoutMs, () =>
        controller?.abort(new Error("the job's timeout passed")),
      );
    }
    let content: string;
    try {
      content = canonicalJson(value);
    } catch (error) {
      return failed(
        job,
        "INVALID_OUTPUT",
        `the generator's output is not JSON: ${describe(error)}`,
      );
    }
    if (content.includes("\\u0000")) {
      return failed(job, "INVALID_OUTPUT", "PostgreSQL cannot store the character U+0000 in JSON");
    }
    return {
      jobId: job.id,
      ok: true,
      // Not cuid2 like job ids: cuid2 costs ~170 µs an id here, more than the rest of a demo job.
      outputId: crypto.randomUUID(),
      content,
      contentSha256: "",
      generatorVersion: generator.version,
    };
  } catch (error) {
    if (error === TIMED_OUT) {
      return failed(job, "GENERATOR_TIMEOUT", `the generator ran longer than ${jobTimeoutMs} ms`);
    }
    if (error instanceof GeneratorError && typeof error.code === "string" && error.code) {
      return failed(job, error.code.slice(0, 100), error.message);
    }
    return failed(job, "GENERATOR_ERROR", describe(error));
  } finally {
    result.timings.generatorMs += performance.now() - t;
  }
}

function failed(job: ClaimedJob, code: string, message: string): Outcome {
  return { jobId: job.id, ok: false, error: { code, message: clean(message) } };
}

/** PostgreSQL's jsonb refuses U+0000; messages are for humans and stay short. */
function clean(message: string): JobError["message"] {
  return message.replaceAll("\u0000", "").slice(0, MAX_MESSAGE_CHARS);
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  try {
    return typeof error === "string" ? error : JSON.stringify(error);
  } catch {
    return String(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function withTimeout<T>(work: PromiseLike<T>, ms: number, onTimeout: () => void): Promise<T> {
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

/** Bounded concurrency without a promise per waiting check. */
class Semaphore {
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

/**
 * Collects outcomes and writes them in batches of up to `batchSize`, each in one statement,
 * at most MAX_FINISHES_IN_FLIGHT at once, on their own connections beside the claims: a group
 * commit, where whatever finished during one write goes into the next. A batch the database
 * refuses as a whole (a connection lost, an output it cannot store) is split and retried, so
 * one bad outcome cannot hold the others back; an outcome that still cannot be written leaves
 * its job RUNNING, and the sweeper fails it LEASE_EXPIRED.
 */
class Finisher {
  private buffer: Outcome[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly roomWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Executor,
    private readonly claimant: Claimant,
    private readonly batchSize: number,
    private readonly result: InvocationResult,
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
    await Promise.all(
      batch.map(async (o) => {
        if (o.ok && !o.contentSha256) o.contentSha256 = await sha256Hex(o.content);
      }),
    );
    await this.record(batch);
    this.result.timings.finishMs += performance.now() - t;
  }

  private async record(batch: Outcome[]): Promise<void> {
    let finished: Set<string>;
    try {
      finished = await finishJobs(this.db, this.claimant, batch);
    } catch (error) {
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.record(batch.slice(0, half));
        await this.record(batch.slice(half));
        return;
      }
      const only = batch[0] as Outcome;
      if (only.ok) {
        // The output itself was refused; the job did run, and its error says why no output.
        await this.record([
          {
            jobId: only.jobId,
            ok: false,
            error: {
              code: "OUTPUT_REJECTED",
              message: clean(`the database refused the output: ${describe(error)}`),
            },
          },
        ]);
      }
      return;
    }
    for (const o of batch) {
      if (!finished.has(o.jobId)) this.result.refused += 1;
      else if (o.ok) this.result.completed += 1;
      else this.result.failed += 1;
    }
  }
}

/** The invocation settings a worker configuration (WORKER_*, JOB_TIMEOUT_MS, HTTP_*) gives. */
export function invocationOptionsFrom(config: WorkerConfig): InvocationOptions {
  return {
    budgetMs: config.budgetMs,
    concurrency: config.concurrency,
    batchSize: config.batchSize,
    leaseSeconds: config.leaseSeconds,
    jobTimeoutMs: config.jobTimeoutMs,
    generators: builtInGenerators(config.http),
  };
}
