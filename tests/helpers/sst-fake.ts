/**
 * A recording stand-in for SST's globals (`$config`, `$app`, `$resolve`, `sst.*`), so that
 * `sst.config.ts` can be evaluated without SST, Pulumi or Cloudflare. It records what the
 * config declares and does what SST's components do with it that matters here:
 *
 * - a Worker's `environment` becomes `plain_text` bindings after SST's own `SST_RESOURCE_App`,
 *   then `transform.worker` (a function, or an object merged over the arguments) runs on the
 *   Cloudflare script arguments;
 * - a Worker's `placement` is recorded resolved, as SST applies it to the script's settings
 *   once the script exists;
 * - a Cron builds its Worker from `worker` (or the deprecated `job`) as `<Name>Handler`, and
 *   gives that Worker's script as `nodes.worker`;
 * - a RateLimit or a Queue linked to a Worker becomes a binding named after the component
 *   (`ratelimit`, `queue` with the queue's name), among SST's own bindings, before the
 *   `environment` (the kinds of `link` modelled here);
 * - a Queue's queue name is generated, as Cloudflare's is; a Pulumi `cloudflare.QueueConsumer`
 *   is recorded with its arguments resolved;
 * - a Secret's value is the one set for the stage, else its placeholder, else an error
 *   naming it, raised when something needs the value;
 * - Outputs are lazy: a failure inside `apply` surfaces when the value is resolved.
 */
import { vi } from "vitest";
import { API_VARIABLES, CLAIMER_VARIABLES } from "../../infra/config";

type Thunk<T> = () => T;

export class FakeOutput<T = unknown> {
  readonly #compute: Thunk<T>;
  constructor(compute: Thunk<T>) {
    this.#compute = compute;
  }
  apply<U>(callback: (value: T) => U): FakeOutput<U> {
    return new FakeOutput(() => resolve(callback(this.get())) as U);
  }
  get(): T {
    return this.#compute();
  }
}

/** The value an Output (or a structure holding Outputs) resolves to. */
export function resolve(value: unknown): unknown {
  if (value instanceof FakeOutput) return resolve(value.get());
  if (Array.isArray(value)) return value.map(resolve);
  if (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]));
  }
  return value;
}

export interface Binding {
  type: string;
  name: string;
  text?: string;
  /** The queue a `queue` binding sends to. */
  queueName?: string;
}

export interface RecordedWorker {
  name: string;
  /** The arguments given to `sst.cloudflare.Worker`. */
  args: Record<string, unknown> & { handler: string; url?: boolean; link?: unknown[] };
  /** The placement SST gives the script, resolved; undefined leaves Cloudflare's default. */
  placement: unknown;
  /** The arguments of the Cloudflare Worker script, after `transform.worker`. */
  script: {
    scriptName: string;
    compatibilityDate?: unknown;
    compatibilityFlags?: unknown;
    bindings?: unknown;
    [field: string]: unknown;
  };
}

export interface RecordedRateLimit {
  name: string;
  args: { namespaceId: number; limit: number; period: "10 seconds" | "1 minute" };
}

export interface RecordedQueue {
  name: string;
  queueName: string;
  id: string;
}

export interface RecordedQueueConsumer {
  name: string;
  /** The arguments of the Cloudflare QueueConsumer, resolved. */
  args: {
    accountId?: string;
    queueId: string;
    scriptName: string;
    type?: string;
    settings?: { batchSize?: number; maxWaitTimeMs?: number; [field: string]: unknown };
  };
}

export interface RecordedCron {
  name: string;
  args: Record<string, unknown> & { schedules: string[]; job?: unknown; worker?: unknown };
  worker: RecordedWorker;
}

export interface Recording {
  secrets: { name: string; placeholder: string | undefined }[];
  workers: RecordedWorker[];
  crons: RecordedCron[];
  rateLimits: RecordedRateLimit[];
  queues: RecordedQueue[];
  queueConsumers: RecordedQueueConsumer[];
  worker(name: string): RecordedWorker;
  cron(name: string): RecordedCron;
  /** The bindings Cloudflare would get for a Worker, resolved. */
  bindings(worker: RecordedWorker): Binding[];
}

export interface FakeSstOptions {
  /** Secret values as `sst secret set` would hold them for the stage. */
  secrets: Record<string, string>;
}

interface App {
  name: string;
  stage: string;
  removal: "remove" | "retain" | "retain-all";
  protect: boolean;
}

const GLOBALS = ["$config", "$app", "$resolve", "sst", "cloudflare"] as const;

function currentApp(): App {
  const app = (globalThis as { $app?: App }).$app;
  if (!app) throw new Error("$app is read before app() has run");
  return app;
}

/** Installs the stand-in globals but `$app`, which SST sets once `app()` has run. */
export function installSst(options: FakeSstOptions): Recording {
  const recording: Recording = {
    secrets: [],
    workers: [],
    crons: [],
    rateLimits: [],
    queues: [],
    queueConsumers: [],
    worker(name) {
      const found = this.workers.find((w) => w.name === name);
      if (!found) throw new Error(`no Worker named ${name} was declared`);
      return found;
    },
    cron(name) {
      const found = this.crons.find((c) => c.name === name);
      if (!found) throw new Error(`no Cron named ${name} was declared`);
      return found;
    },
    bindings(worker) {
      return resolve(worker.script.bindings) as Binding[];
    },
  };

  class Secret {
    readonly #name: string;
    readonly #placeholder: string | undefined;
    constructor(name: string, placeholder?: string) {
      this.#name = name;
      this.#placeholder = placeholder;
      recording.secrets.push({ name, placeholder });
    }
    get name() {
      return new FakeOutput(() => this.#name);
    }
    get value() {
      return new FakeOutput(() => {
        const value = options.secrets[this.#name] ?? this.#placeholder;
        if (typeof value !== "string") {
          throw new Error(
            `Set a value for ${this.#name} with \`sst secret set ${this.#name} <value>\``,
          );
        }
        return value;
      });
    }
  }

  class RateLimit {
    readonly name: string;
    readonly args: RecordedRateLimit["args"];
    constructor(name: string, args: RecordedRateLimit["args"]) {
      // SST's own checks, made when the component is created.
      if (!Number.isInteger(args.namespaceId) || args.namespaceId <= 0) {
        throw new Error("The `namespaceId` property must be a positive integer.");
      }
      if (args.period !== "10 seconds" && args.period !== "1 minute") {
        throw new Error(`"${args.period}" is not a period the binding accepts`);
      }
      this.name = name;
      this.args = args;
      recording.rateLimits.push({ name, args });
    }
    /** The binding SST's Worker makes of a linked RateLimit. */
    binding() {
      return {
        type: "ratelimit",
        name: this.name,
        namespaceId: String(this.args.namespaceId),
        simple: { limit: this.args.limit, period: this.args.period === "1 minute" ? 60 : 10 },
      };
    }
  }

  class Queue {
    readonly name: string;
    readonly #queue: RecordedQueue;
    constructor(name: string, args?: unknown) {
      if (args !== undefined) throw new Error("this stand-in models a Queue without arguments");
      const app = currentApp();
      this.name = name;
      this.#queue = {
        name,
        queueName: `${app.name}-${app.stage}-${name}Queue`.toLowerCase(),
        id: `queue-id-${name}`,
      };
      recording.queues.push(this.#queue);
    }
    get id() {
      return new FakeOutput(() => this.#queue.id);
    }
    subscribe(): never {
      throw new Error("this stand-in does not model subscribe(): it builds a Worker of its own");
    }
    /** The binding SST's Worker makes of a linked Queue: a producer. */
    binding() {
      return { type: "queue", name: this.name, queueName: this.#queue.queueName };
    }
  }

  class QueueConsumer {
    constructor(name: string, args: Record<string, unknown>) {
      const resolved = resolve(args) as RecordedQueueConsumer["args"];
      if (!resolved.queueId || !resolved.scriptName) {
        throw new Error(`"${name}" needs a queueId and a scriptName`);
      }
      recording.queueConsumers.push({ name, args: resolved });
    }
  }

  class Worker {
    readonly #args: RecordedWorker["args"];
    readonly #scriptName: string;
    constructor(name: string, args: RecordedWorker["args"]) {
      const links = args.link ?? [];
      if (!links.every((link) => link instanceof RateLimit || link instanceof Queue)) {
        throw new Error("this stand-in models `link` for RateLimit and Queue components only");
      }
      const app = currentApp();
      this.#args = args;
      this.#scriptName = `${app.name}-${app.stage}-${name}Script`.toLowerCase();
      const script: RecordedWorker["script"] = {
        accountId: "account-id",
        scriptName: this.#scriptName,
        compatibilityDate: "2025-05-05",
        compatibilityFlags: ["nodejs_compat"],
        bindings: new FakeOutput(() => [
          {
            type: "plain_text",
            name: "SST_RESOURCE_App",
            text: JSON.stringify({ name: app.name, stage: app.stage }),
          },
          ...links.map((link) => (link as RateLimit | Queue).binding()),
          ...Object.entries((resolve(args.environment) ?? {}) as Record<string, string>).map(
            ([key, text]) => ({ type: "plain_text", name: key, text }),
          ),
        ]),
      };
      const transform = (args.transform as { worker?: unknown } | undefined)?.worker;
      if (typeof transform === "function") transform(script, {}, `${name}Script`);
      else if (transform) Object.assign(script, transform);
      recording.workers.push({ name, args, placement: resolve(args.placement), script });
    }
    get url() {
      return new FakeOutput(() =>
        this.#args.url ? `https://${this.#scriptName}.account.workers.dev` : undefined,
      );
    }
  }

  class Cron {
    readonly #worker: RecordedWorker;
    constructor(name: string, args: RecordedCron["args"]) {
      if (args.job && args.worker) throw new Error(`"${name}" gives both job and worker`);
      const definition = args.worker ?? args.job;
      if (!definition) throw new Error(`"${name}" gives no worker`);
      const workerArgs = (
        typeof definition === "string" ? { handler: definition } : definition
      ) as RecordedWorker["args"];
      new Worker(`${name}Handler`, workerArgs);
      this.#worker = recording.workers.at(-1) as RecordedWorker;
      recording.crons.push({ name, args, worker: this.#worker });
    }
    get nodes() {
      const scriptName = this.#worker.script.scriptName;
      const accountId = this.#worker.script.accountId;
      return {
        worker: {
          scriptName: new FakeOutput(() => scriptName),
          accountId: new FakeOutput(() => accountId),
        },
      };
    }
  }

  Object.assign(globalThis, {
    $config: (config: unknown) => config,
    $resolve: (values: Record<string, unknown>) => new FakeOutput(() => resolve(values)),
    sst: { Secret, cloudflare: { Worker, Cron, RateLimit, Queue } },
    cloudflare: { QueueConsumer },
  });
  return recording;
}

export function uninstallSst() {
  for (const name of GLOBALS) Reflect.deleteProperty(globalThis, name);
}

/** Every variable the deployment reads from the deploying shell. */
const DEPLOY_VARIABLES = [
  ...API_VARIABLES,
  ...CLAIMER_VARIABLES,
  "ACCESS_DISABLED",
  "NEON_WS_PROXY",
];

export interface Evaluation {
  /** What `app()` returned for the stage. */
  app: Awaited<ReturnType<SstConfigModule["app"]>>;
  recording: Recording;
  /** Runs `run()`, as `sst deploy` would after `app()`. */
  run: () => ReturnType<SstConfigModule["run"]>;
}

type SstConfigModule = typeof import("../../sst.config").default;

/**
 * Evaluates `sst.config.ts` for `stage` as SST would: `app()`, then `run()` on demand, with
 * `env` as the deploying shell (nothing else of the real environment leaks in) and `secrets`
 * as set for the stage. Modules are reloaded, so `infra/` runs afresh against this stand-in.
 */
export async function evaluateSstConfig(options: {
  stage: string;
  env?: Record<string, string>;
  secrets?: Record<string, string>;
}): Promise<Evaluation> {
  for (const name of DEPLOY_VARIABLES) vi.stubEnv(name, options.env?.[name]);
  const recording = installSst({ secrets: options.secrets ?? {} });
  vi.resetModules();
  const config = (await import("../../sst.config")).default;
  const app = await config.app({ stage: options.stage });
  Object.assign(globalThis, {
    $app: {
      name: app.name,
      stage: options.stage,
      removal: app.removal ?? "retain",
      protect: app.protect ?? false,
    } satisfies App,
  });
  return { app, recording, run: () => config.run() };
}
