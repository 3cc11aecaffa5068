/**
 * The claimer's wake-up queue: the Api Worker sends one message to it after each request that
 * created jobs (infra/api.ts links it), and the claimer's own Worker consumes it (its `queue`
 * handler), so the jobs start now rather than at the next Cron tick, with the 15 minutes of
 * wall time a queue consumer gets instead of what is left of the API request's `waitUntil`.
 *
 * Why a QueueConsumer rather than `queue.subscribe()`? SST's subscribe builds a Worker of its
 * own for the consumer; the claimer's Worker is the Cron's, so the consumer is attached to that
 * script directly, with the same Cloudflare resource SST's subscriber creates.
 */
import { CLAIMER_WAKE, CLAIMER_WAKE_BATCH } from "../functions/config/wake";
import { claimer } from "./claimer";

export const claimerWake = new sst.cloudflare.Queue(CLAIMER_WAKE.binding);

export const claimerWakeConsumer = new cloudflare.QueueConsumer(`${CLAIMER_WAKE.binding}Consumer`, {
  // The account SST deployed the claimer's Worker to (always set: SST gives it one).
  accountId: claimer.nodes.worker.accountId.apply((id) => {
    if (!id) throw new Error("the claimer's Worker script names no account");
    return id;
  }),
  queueId: claimerWake.id,
  scriptName: claimer.nodes.worker.scriptName,
  type: "worker",
  settings: {
    batchSize: CLAIMER_WAKE_BATCH.batchSize,
    maxWaitTimeMs: CLAIMER_WAKE_BATCH.windowMs,
  },
});
