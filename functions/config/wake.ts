/**
 * How the API Worker wakes the claimer Worker on Cloudflare: a Cloudflare Queue (infra/wake.ts)
 * whose producer binding the Api Worker gets under this name (SST names a linked component's
 * binding after the component) and whose consumer is the claimer Worker's `queue` handler
 * (functions/worker.ts). Each message says only that jobs were created.
 */
export const CLAIMER_WAKE = { binding: "ClaimerWake", message: { jobsCreated: true } } as const;

/**
 * How the claimer consumes the queue: batches of up to `batchSize` messages, delivered after at
 * most `windowMs`. SST and Cloudflare want a window of at least one second for a batch of more
 * than 10, so 10 with no window at all: a wake-up is delivered as soon as it is sent, and one
 * batch runs one invocation however many messages it holds.
 */
export const CLAIMER_WAKE_BATCH = { batchSize: 10, windowMs: 0 } as const;
