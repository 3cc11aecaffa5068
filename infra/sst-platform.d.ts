/**
 * The part of SST v3's platform API that `sst.config.ts` and `infra/` use, declared as SST
 * documents it (`$config`, `$app`, `$resolve`, `sst.Secret`, `sst.cloudflare.Worker`,
 * `sst.cloudflare.Cron`), so that `tsc` checks them on a machine where `sst install` has not
 * run. SST's own declarations live in `.sst/platform/config.d.ts`, which `sst install` writes;
 * until then `infra/platform-types.ts` puts a one-line file there that points here. Once SST's
 * file is in place this one is no longer part of the program, so the two never clash.
 *
 * Only what is used is declared. Pulumi's `Input`/`Output` are reduced to what the code does
 * with them (`apply`), and Cloudflare's Worker script arguments to the fields it sets.
 */

/** The arguments of Cloudflare's Worker script resource (`cloudflare.WorkersScriptArgs`), in part. */
interface WorkersScriptArgs {
  accountId: $util.Input<string>;
  scriptName: $util.Input<string>;
  compatibilityDate?: $util.Input<string>;
  compatibilityFlags?: $util.Input<$util.Input<string>[]>;
  bindings?: $util.Input<$util.Input<WorkersScriptBinding>[]>;
}

/** One binding of a Worker script: `plain_text`, `secret_text`, `kv_namespace`, … */
interface WorkersScriptBinding {
  name: $util.Input<string>;
  type: $util.Input<string>;
  text?: $util.Input<string>;
}

/** What `app()` returns (SST's `App`), in part. */
interface App {
  name: string;
  home: "aws" | "cloudflare" | "local";
  removal?: "remove" | "retain" | "retain-all";
  protect?: boolean;
  providers?: Record<string, unknown>;
  version?: string;
}

/** The object given to `$config` (SST's `Config`), in part. */
interface Config {
  app(input: { stage: string }): App;
  /** Its result becomes the stage's outputs. */
  // biome-ignore lint/suspicious/noConfusingVoidType: SST's own signature; run() may return nothing
  run(): Promise<Record<string, unknown> | void>;
}

declare global {
  /** Pulumi's SDK as SST exposes it (`$util`), in part. */
  namespace $util {
    interface Output<T> {
      apply<U>(callback: (value: T) => Input<U>): Output<U>;
    }
    type Input<T> = T | Promise<T> | Output<T>;
    type Unwrap<T> =
      T extends Promise<infer U>
        ? Unwrap<U>
        : T extends Output<infer U>
          ? Unwrap<U>
          : T extends readonly (infer E)[]
            ? Unwrap<E>[]
            : T extends object
              ? { [K in keyof T]: Unwrap<T[K]> }
              : T;
    /** Pulumi's resource options (`parent`, `dependsOn`, …); none are used here. */
    interface CustomResourceOptions {
      readonly [option: string]: unknown;
    }
    interface ComponentResourceOptions {
      readonly [option: string]: unknown;
    }
  }

  namespace sst {
    /** A secret per stage, set with `sst secret set <name> <value> --stage <stage>`. */
    class Secret {
      /** Without `placeholder`, deploying fails until the secret is set for the stage. */
      constructor(name: string, placeholder?: $util.Input<string>);
      readonly name: $util.Output<string>;
      readonly value: $util.Output<string>;
      readonly placeholder: $util.Output<string> | undefined;
    }

    namespace cloudflare {
      interface WorkerArgs {
        /** Path of the handler, relative to the directory of `sst.config.ts`. */
        handler: $util.Input<string>;
        /** A workers.dev URL for the Worker. */
        url?: $util.Input<boolean>;
        domain?: $util.Input<string>;
        link?: $util.Input<unknown[]>;
        /** Worker variables, bound as `plain_text`, read as `env.<key>`. */
        environment?: $util.Input<Record<string, $util.Input<string>>>;
        transform?: {
          /** Changes the arguments of the Cloudflare Worker script SST creates. */
          worker?:
            | Partial<WorkersScriptArgs>
            | ((
                args: WorkersScriptArgs,
                opts: $util.CustomResourceOptions,
                name: string,
              ) => undefined);
        };
      }

      class Worker {
        constructor(name: string, args: WorkerArgs, opts?: $util.ComponentResourceOptions);
        /** The Worker's URL when `url` is enabled. */
        readonly url: $util.Output<string | undefined>;
      }

      interface CronArgs {
        /** @deprecated Use `worker`. */
        job?: $util.Input<string | WorkerArgs>;
        /** The Worker whose `scheduled` handler the trigger runs. */
        worker?: $util.Input<string | WorkerArgs>;
        /** Cron expressions, as Cloudflare Cron Triggers accept them. */
        schedules: $util.Input<string[]>;
      }

      class Cron {
        constructor(name: string, args: CronArgs, opts?: $util.ComponentResourceOptions);
      }
    }
  }

  function $config(input: Config): Config;

  const $app: {
    readonly name: string;
    readonly stage: string;
    readonly removal: "remove" | "retain" | "retain-all";
    readonly protect: boolean;
  };

  /** Waits for every Output in `values` and gives them, resolved, to `apply`. */
  function $resolve<T extends Record<string, unknown>>(values: T): $util.Output<$util.Unwrap<T>>;
}

export {};
