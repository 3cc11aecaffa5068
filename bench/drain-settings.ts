/** What bench/run.ts tells a bench/drain.ts process to do. */
export interface DrainSettings {
  /** Stop once this many jobs are done (the peers; Regent stops when nothing is claimable). */
  jobs: number;
  /** Stop after this long whatever is left (a peer at its defaults may take hours). */
  windowMs?: number;
  /** Regent's WORKER_BATCH_SIZE and WORKER_CONCURRENCY. */
  batchSize?: number;
  concurrency?: number;
  /** graphile-worker: its `concurrentJobs`, `localQueue.size`, `completeJobBatchDelay`. */
  graphile?: { concurrency: number; localQueueSize: number; completeJobBatchDelay: number } | null;
  /** pg-boss: its work() options; null for its defaults. */
  pgboss?: {
    batchSize: number;
    localConcurrency: number;
    burstWhenBatchFull: boolean;
    pollingIntervalSeconds: number;
  } | null;
}

export const PGBOSS_QUEUE = "noop";
