import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { CLAIMER_WAKE, CLAIMER_WAKE_BATCH } from "../../functions/config/wake";
import { compatibilityDate, compatibilityFlags } from "../../infra/worker-settings";

export interface WorkerBundle {
  text: string;
  /** Every source file in the bundle. */
  inputs: string[];
  /** Imports left outside the bundle (the runtime would have to provide them). */
  externals: string[];
}

/**
 * Bundles a Worker entry as Cloudflare would run it: ESM, workerd's package conditions.
 * `minify` as SST does when it deploys (its Worker component minifies unless told not to).
 */
export async function bundleWorker(
  entry: string,
  options: { minify?: boolean } = {},
): Promise<WorkerBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: options.minify ?? false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["node:*", "cloudflare:*"],
    metafile: true,
    logLevel: "silent",
  });
  return {
    text: result.outputFiles[0]?.text ?? "",
    inputs: Object.keys(result.metafile.inputs),
    externals: Object.values(result.metafile.inputs).flatMap((input) =>
      input.imports.filter((i) => i.external).map((i) => i.path),
    ),
  };
}

/**
 * Runs a bundle in workerd with the deployed compatibility settings (infra/worker-settings.ts).
 * `rateLimits` binds Cloudflare rate limits by name, as SST links a RateLimit component.
 */
export function runInWorkerd(
  bundle: WorkerBundle,
  bindings: Record<string, string>,
  options: { rateLimits?: Record<string, { limit: number; period: 10 | 60 }> } = {},
): Miniflare {
  return new Miniflare({
    modules: true,
    script: bundle.text,
    compatibilityDate,
    compatibilityFlags: [...compatibilityFlags],
    bindings,
    ratelimits: Object.fromEntries(
      Object.entries(options.rateLimits ?? {}).map(([name, simple], i) => [
        name,
        { namespace_id: String(1000 + i), simple },
      ]),
    ),
  });
}

/** The Neon driver wants a password in the URL even where the server trusts the client. */
export function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = "postgres";
  if (!u.username) u.username = "postgres";
  return u.toString();
}

/** The queue the API's wake-up binding sends to in workerd, as infra/wake.ts declares one. */
export const WAKE_QUEUE = "claimer-wake";

/**
 * The API Worker and the claimer Worker in one workerd, as deployed: the API's producer binding
 * sends to the wake-up queue, which the claimer's Worker consumes with the batch settings of
 * infra/wake.ts. `claimer` replaces the claimer's script, to stand for one that fails;
 * `failingSend` binds the API to a producer whose every send fails instead of the queue.
 * Requests dispatched to the Miniflare go to the API.
 */
export function runApiAndClaimerInWorkerd(options: {
  api: WorkerBundle;
  claimer: WorkerBundle | { script: string };
  apiBindings: Record<string, string>;
  claimerBindings: Record<string, string>;
  failingSend?: boolean;
}): Miniflare {
  const common = {
    modules: true,
    compatibilityDate,
    compatibilityFlags: [...compatibilityFlags],
  };
  const claimerScript = "text" in options.claimer ? options.claimer.text : options.claimer.script;
  const producer = options.failingSend
    ? { wrappedBindings: { [CLAIMER_WAKE.binding]: "failing-producer" } }
    : { queueProducers: { [CLAIMER_WAKE.binding]: { queueName: WAKE_QUEUE } } };
  return new Miniflare({
    workers: [
      {
        ...common,
        name: "api",
        script: options.api.text,
        bindings: options.apiBindings,
        ...producer,
      },
      {
        ...common,
        name: "claimer",
        script: claimerScript,
        bindings: options.claimerBindings,
        queueConsumers: {
          [WAKE_QUEUE]: {
            maxBatchSize: CLAIMER_WAKE_BATCH.batchSize,
            maxBatchTimeout: CLAIMER_WAKE_BATCH.windowMs / 1000,
          },
        },
      },
      {
        // A wrapped binding's module runs with the settings of the Worker that holds it.
        modules: true,
        name: "failing-producer",
        script:
          "export default function () { return { async send() { throw new Error('the queue refused the message'); } }; }",
      },
    ],
  });
}
