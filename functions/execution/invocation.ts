import type { Executor } from "../../db/types";
import type { WorkerConfig } from "../config/worker";
import { sealAudit } from "../domain/audit-seals";
import { newId } from "../domain/ids";
import { pruneExpiredRecords } from "../domain/retention";
import { expireRetryIntents } from "../domain/retry-intents";
import { compactTallies } from "../domain/tallies";
import { type AlertOutcome, type AlertSettings, sendAlertDigest } from "./alerts";
import { Semaphore } from "./async";
import { type Claimant, claimJobs, finishJobs, renewLeases, sweepExpiredLeases } from "./claimer";
import { Finisher } from "./finisher";
import { builtInGenerators, type ClaimedJob, type GeneratorRegistry } from "./generators";
import { describeError } from "./job-failure";
import { runJob } from "./run-job";
import {
  effectiveConcurrency,
  type InvocationLimits,
  nodeLimits,
  SubrequestBudget,
  subrequestsOf,
  subrequestsPerJob,
  UNLIMITED,
} from "./subrequests";

export interface InvocationOptions {
  /** Stop claiming after this long; jobs already claimed still run to their end. */
  budgetMs: number;
  /** Generators running at once; fewer when `limits` leave fewer connections free. */
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
  /** Where the digest of new failures and surges goes at the end; no alerts when unset. */
  alerts?: AlertSettings | undefined;
  /**
   * Sweep lapsed leases and expired intents and prune old records first, and send the alert
   * digest and seal the audit log at the end (default true). A wake-up after jobs were created
   * skips them: it is about starting those jobs soon, and the Cron's invocation does the rest.
   */
  housekeeping?: boolean;
  /**
   * What the runtime lets one invocation send and hold open (./subrequests.ts): it claims only
   * jobs whose generator calls fit in the subrequests left. Default: nothing is limited.
   */
  limits?: InvocationLimits | undefined;
}

export interface InvocationResult {
  invocationId: string;
  claimed: number;
  completed: number;
  failed: number;
  /** Jobs of any worker failed with LEASE_EXPIRED by this invocation's sweep. */
  swept: number;
  /** PENDING retry intents past their expiry, rejected as `system` by this invocation's sweep. */
  expired: number;
  /** What became of the alert digest; undefined when alerts are off or the invocation failed. */
  alert?: AlertOutcome | undefined;
  /** Outcomes the database did not take because the job was no longer this claim's. */
  refused: number;
  /** Audit events sealed at the end: those that became final since the last seal, anyone's. */
  sealed: number;
  /** Why sealing failed; the next invocation's seal covers what this one's would have. */
  sealError?: string | undefined;
  /** Claim statements issued (the last one usually finds nothing). */
  passes: number;
  /**
   * Subrequests made or promised to the jobs claimed: the database's sockets, each claimed
   * job's generator calls, the alert digest's POST. Never more than `limits.subrequests`.
   */
  subrequests: number;
  durationMs: number;
  /** Where the time went: sums of the time spent in each kind of step (steps overlap). */
  timings: { sweepMs: number; claimMs: number; generatorMs: number; finishMs: number };
}

export const DEFAULT_LEASE_SECONDS = 300;
export const DEFAULT_JOB_TIMEOUT_MS = 60_000;

/**
 * One worker invocation, as a Cron trigger, the loop of `npm start` or `npm run worker --once`
 * runs it: sweep lapsed leases and expired retry intents, then claim a batch, run its
 * generators (at most `concurrency` at once), record each outcome, and claim again — until
 * nothing is claimable or the budget is spent. The next batch is claimed as soon as the last
 * job of the current one has started, so slow generators overlap the claim; outcomes are
 * written in batches by a finisher that runs beside the claims. Under `limits` (a Worker), a
 * claim takes only as many jobs as the subrequests left can run, and once none can the
 * invocation stops claiming. Generator errors, timeouts and unknown generators fail their job,
 * never the invocation; nor does an alert receiver that fails (`alerts`: one digest at the
 * end). Logs one JSON line and returns the counts.
 */
export async function runWorkerInvocation(
  db: Executor,
  options: InvocationOptions,
): Promise<InvocationResult> {
  const started = performance.now();
  const housekeeping = options.housekeeping ?? true;
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
  const limits = options.limits ?? UNLIMITED;
  const alerts = housekeeping ? options.alerts : undefined;
  const concurrency = effectiveConcurrency(options.concurrency, limits);
  const slots = new Semaphore(concurrency);
  const subrequests = new SubrequestBudget(limits, { alerts: alerts !== undefined });
  const perJob = subrequestsPerJob(registry);
  const deadline = Date.now() + options.budgetMs;
  const result: InvocationResult = {
    invocationId,
    claimed: 0,
    completed: 0,
    failed: 0,
    swept: 0,
    expired: 0,
    refused: 0,
    sealed: 0,
    passes: 0,
    subrequests: 0,
    durationMs: 0,
    timings: { sweepMs: 0, claimMs: 0, generatorMs: 0, finishMs: 0 },
  };
  const finisher = new Finisher((batch) => finishJobs(db, claimant, batch), batchSize, result);
  const running = new Set<Promise<void>>();
  let failure: unknown;
  try {
    let t = performance.now();
    if (housekeeping) {
      result.swept = await sweepAll(db, claimant.actor);
      result.expired = await expireAll(db);
      await pruneExpiredRecords(db);
      result.timings.sweepMs = performance.now() - t;
    }

    while (Date.now() < deadline && !options.signal?.aborted) {
      const claimable = subrequests.claimable(perJob, batchSize);
      if (claimable === 0) break;
      t = performance.now();
      const claimedAt = Date.now();
      const claimed = await claimJobs(db, claimant, { batchSize: claimable, leaseSeconds });
      result.timings.claimMs += performance.now() - t;
      result.passes += 1;
      if (claimed.length === 0) break;
      result.claimed += claimed.length;
      for (const job of claimed) subrequests.take(subrequestsOf(registry, job.generator));
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
        const run: Promise<void> = runJob(job, registry, jobTimeoutMs, result.timings).then(
          (outcome) => finisher.add(outcome),
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
  if (alerts && !failure) {
    result.alert = await sendAlertDigest(db, alerts, claimant.actor);
    // A failed digest may have reached its receiver before it failed.
    if (result.alert.status === "sent" || result.alert.status === "failed") subrequests.take(1);
    if (result.alert.status === "failed") {
      // Also apart from the invocation's line, which the loop leaves out when it was idle.
      console.warn(
        JSON.stringify({ event: "worker.alert.failed", invocationId, error: result.alert.error }),
      );
    }
  }
  if (housekeeping && !failure) {
    try {
      result.sealed = (await sealAudit(db, claimant.actor))?.eventCount ?? 0;
    } catch (error) {
      result.sealError = describeError(error);
    }
    try {
      await compactTallies(db);
    } catch (error) {
      // The counts stay right unfolded, only a little slower to sum: the next invocation folds.
      console.warn(
        JSON.stringify({
          event: "worker.tallies.failed",
          invocationId,
          error: describeError(error),
        }),
      );
    }
  }
  result.subrequests = subrequests.taken;
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
      expired: result.expired,
      refused: result.refused,
      sealed: result.sealed,
      passes: result.passes,
      durationMs: Math.round(result.durationMs),
      batchSize,
      concurrency,
      ...(Number.isFinite(limits.subrequests) ? { subrequests: result.subrequests } : {}),
      ...(result.alert ? { alert: result.alert.status } : {}),
      ...(result.sealError ? { sealError: result.sealError } : {}),
      ...(failure ? { error: describeError(failure) } : {}),
    }),
  );
  if (failure) throw failure;
  return result;
}

/** Expired intents per statement; the sweep repeats until a statement finds fewer. */
const EXPIRY_BATCH = 1000;

async function expireAll(db: Executor): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await expireRetryIntents(db, EXPIRY_BATCH);
    total += expired;
    if (expired < EXPIRY_BATCH) return total;
  }
}

async function sweepAll(db: Executor, actor: string): Promise<number> {
  let total = 0;
  for (;;) {
    const swept = await sweepExpiredLeases(db, actor, 1000);
    total += swept.length;
    if (swept.length < 1000) return total;
  }
}

/**
 * The invocation settings a worker configuration (WORKER_*, JOB_TIMEOUT_MS, HTTP_*) gives on
 * Node; the claimer's Worker replaces the limits with its runtime's (./subrequests.ts).
 */
export function invocationOptionsFrom(config: WorkerConfig): InvocationOptions {
  return {
    budgetMs: config.budgetMs,
    concurrency: config.concurrency,
    batchSize: config.batchSize,
    leaseSeconds: config.leaseSeconds,
    jobTimeoutMs: config.jobTimeoutMs,
    generators: builtInGenerators(config.http),
    alerts: config.alerts ? { ...config.alerts, surge: config.surge } : undefined,
    limits: nodeLimits(config.subrequestBudget),
  };
}
