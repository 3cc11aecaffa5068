import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { CLAIMER_WAKE } from "../../functions/config/wake";
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

/** Runs a bundle in workerd with the deployed compatibility settings (infra/worker-settings.ts). */
export function runInWorkerd(bundle: WorkerBundle, bindings: Record<string, string>): Miniflare {
  return new Miniflare({
    modules: true,
    script: bundle.text,
    compatibilityDate,
    compatibilityFlags: [...compatibilityFlags],
    bindings,
  });
}

/** The Neon driver wants a password in the URL even where the server trusts the client. */
export function withPassword(url: string): string {
  const u = new URL(url);
  if (!u.password) u.password = "postgres";
  if (!u.username) u.username = "postgres";
  return u.toString();
}

/**
 * The API Worker and the claimer Worker in one workerd, as deployed: the API's `CLAIMER`
 * service binding reaches the claimer (infra/api.ts). `claimer` replaces the claimer's script,
 * to stand for one that fails. Requests dispatched to the Miniflare go to the API.
 */
export function runApiAndClaimerInWorkerd(options: {
  api: WorkerBundle;
  claimer: WorkerBundle | { script: string };
  apiBindings: Record<string, string>;
  claimerBindings: Record<string, string>;
}): Miniflare {
  const common = {
    modules: true,
    compatibilityDate,
    compatibilityFlags: [...compatibilityFlags],
  };
  const claimerScript = "text" in options.claimer ? options.claimer.text : options.claimer.script;
  return new Miniflare({
    workers: [
      {
        ...common,
        name: "api",
        script: options.api.text,
        bindings: options.apiBindings,
        serviceBindings: { [CLAIMER_WAKE.binding]: "claimer" },
      },
      { ...common, name: "claimer", script: claimerScript, bindings: options.claimerBindings },
    ],
  });
}
