/**
 * What one invocation of the claimer's Worker may send, and the arithmetic that keeps it there.
 *
 * Cloudflare counts every outgoing request of a Worker invocation (each fetch, each WebSocket
 * opened) against a limit per invocation; past it the request throws "Too many subrequests".
 * A generator call that throws fails its job, so claiming more jobs than the invocation has
 * subrequests for would fail jobs by Regent's own doing. Cloudflare also lets only six outgoing
 * connections of an invocation wait for their answer at once; more wait in line, with their
 * timeouts running, and the database's own connection would wait behind them.
 *
 * So an invocation claims only the jobs it has subrequests left for, keeping back what its end
 * needs (the alert digest's POST, a database connection opened again), and runs at most as many
 * generators at once as leave the database its connection. On Node nothing of this applies:
 * an invocation is unlimited unless WORKER_SUBREQUEST_BUDGET says otherwise.
 */
import { DEFAULT_SUBREQUESTS, type GeneratorRegistry } from "./generators";

/** Cloudflare's Free plan: 50 subrequests an invocation (the Paid plan: 10,000 by default). */
export const FREE_PLAN_SUBREQUESTS = 50;

/** Outgoing connections one invocation may have waiting for their answer at once. */
export const CLOUDFLARE_CONNECTIONS = 6;

/**
 * The claimer Worker's database connections: one WebSocket, opened once and kept until the
 * invocation ends (functions/worker.ts). Opening it is a subrequest; SQL over it is not, which
 * is also why the claimer never uses SQL-over-HTTP, where every statement is one (and which has
 * no transactions for the alert digest and the audit seal).
 */
export const WORKER_DATABASE_SOCKETS = 1;

export interface InvocationLimits {
  /** Subrequests the invocation may make, all told (WORKER_SUBREQUEST_BUDGET). */
  subrequests: number;
  /** Outgoing connections it may have open at once, the database's included. */
  connections: number;
  /** The database's WebSockets: each one is a connection, and a subrequest when opened. */
  databaseSockets: number;
}

/** Nothing is limited: Node, where WORKER_SUBREQUEST_BUDGET is not set. */
export const UNLIMITED: InvocationLimits = {
  subrequests: Number.POSITIVE_INFINITY,
  connections: Number.POSITIVE_INFINITY,
  databaseSockets: 0,
};

/** The limits of the claimer's Worker: the Free plan's subrequests unless `budget` is set. */
export function workerLimits(budget: number | undefined): InvocationLimits {
  return {
    subrequests: budget ?? FREE_PLAN_SUBREQUESTS,
    connections: CLOUDFLARE_CONNECTIONS,
    databaseSockets: WORKER_DATABASE_SOCKETS,
  };
}

/** The limits of a Node worker: only the subrequests, and only when `budget` is set. */
export function nodeLimits(budget: number | undefined): InvocationLimits {
  return budget === undefined ? UNLIMITED : { ...UNLIMITED, subrequests: budget };
}

/** The most one job can cost: the largest count its registry's generators declare. */
export function subrequestsPerJob(registry: GeneratorRegistry): number {
  let most = 0;
  for (const generator of registry.values()) {
    most = Math.max(most, generator.subrequests ?? DEFAULT_SUBREQUESTS);
  }
  return most;
}

/**
 * What one claimed job will cost: its generator's count, or nothing for a generator this worker
 * does not have (the job fails UNKNOWN_GENERATOR without a call).
 */
export function subrequestsOf(registry: GeneratorRegistry, generator: string): number {
  const found = registry.get(generator);
  return found ? (found.subrequests ?? DEFAULT_SUBREQUESTS) : 0;
}

/**
 * Subrequests kept back from the claims for the end of the invocation: the database's sockets
 * opened once more, should a connection be lost, and the alert digest's POST.
 */
function keptBack(limits: InvocationLimits, alerts: boolean): number {
  return limits.databaseSockets + (alerts ? 1 : 0);
}

/** Jobs that `left` subrequests can run, at `perJob` each, and at most `batchSize`. */
function jobsFor(left: number, perJob: number, batchSize: number): number {
  if (perJob <= 0) return batchSize;
  return Math.max(0, Math.min(batchSize, Math.floor(left / perJob)));
}

/** What an invocation may need besides its generator calls: its sockets, and what is kept back. */
export function overhead(limits: InvocationLimits, alerts: boolean): number {
  return limits.databaseSockets + keptBack(limits, alerts);
}

/** The most jobs one invocation can claim, whatever the batch size. */
export function jobsPerInvocation(
  limits: InvocationLimits,
  perJob: number,
  alerts: boolean,
): number {
  return jobsFor(limits.subrequests - overhead(limits, alerts), perJob, Number.POSITIVE_INFINITY);
}

/**
 * Generators that run at once: the configured concurrency, but no more than the connections
 * the database leaves free. The alert digest is sent after every job has ended, so it never
 * needs one of theirs.
 */
export function effectiveConcurrency(configured: number, limits: InvocationLimits): number {
  return Math.max(1, Math.min(Math.floor(configured), limits.connections - limits.databaseSockets));
}

/**
 * One invocation's subrequests. The database's sockets are taken at once (they were opened for
 * it); each claim takes what its jobs' generators will make, so that a job is claimed only when
 * its calls are paid for; the alert digest takes its POST from what was kept back.
 */
export class SubrequestBudget {
  private spent: number;
  private readonly reserve: number;

  constructor(
    private readonly limits: InvocationLimits,
    options: { alerts: boolean },
  ) {
    this.spent = limits.databaseSockets;
    this.reserve = keptBack(limits, options.alerts);
  }

  /** Subrequests made or promised so far: at least as many as were sent. */
  get taken(): number {
    return this.spent;
  }

  take(count: number): void {
    this.spent += count;
  }

  /** Jobs the next claim may take, at `perJob` subrequests each, and at most `batchSize`. */
  claimable(perJob: number, batchSize: number): number {
    return jobsFor(this.limits.subrequests - this.reserve - this.spent, perJob, batchSize);
  }
}
