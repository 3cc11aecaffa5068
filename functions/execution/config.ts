/**
 * Moved to functions/config/worker.ts. This re-export remains only while
 * functions/execution/invocation.ts, being split by someone else right now, still imports
 * WorkerConfig from here; delete it once that import names functions/config/worker.
 */
export type { WorkerConfig } from "../config/worker";
