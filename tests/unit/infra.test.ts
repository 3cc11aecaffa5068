/**
 * What `sst.config.ts` and `infra/` declare, evaluated against a recording stand-in for SST
 * (tests/helpers/sst-fake.ts): SST, Pulumi and Cloudflare are the outside world here.
 */
import { execFile } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CLAIMER_WAKE, CLAIMER_WAKE_BATCH } from "../../functions/config/wake";
import { CLOUDFLARE_AUTH_LIMIT } from "../../functions/domain/auth-limiter";
import { CLOUDFLARE_SIGN_IN_LIMIT } from "../../functions/domain/sign-in-limiter";
import {
  AUTH_RATE_LIMIT,
  CLAIMER_SCHEDULE,
  readStageConfig,
  SECRETS,
  SIGN_IN_RATE_LIMIT,
} from "../../infra/config";
import { sstCommand } from "../../infra/deploy";
import { LOCAL_SST, PROJECT_ROOT, sstBunPath } from "../../infra/sst-cli";
import { compatibilityDate, compatibilityFlags } from "../../infra/worker-settings";
import {
  type Binding,
  type Evaluation,
  evaluateSstConfig,
  type RecordedWorker,
  uninstallSst,
} from "../helpers/sst-fake";

const SECRET_VALUES = {
  DatabaseUrl: "postgres://regent:db-password-0123@ep-quiet-sea.eu-central-1.aws.neon.tech/regent",
  SessionSecret: "session-secret-0123456789abcdefghijklmnopqrstuvwxyz",
  BootstrapAdminToken: "bootstrap-admin-token-0123456789",
  HttpGeneratorHeaders: '{"authorization":"Bearer generator-credential-0123"}',
  MetricsToken: "metrics-scraper-token-0123456789",
  AlertWebhookUrl: "https://alerts.example.com/regent",
  AlertWebhookSecret: "alert-signing-secret-0123456789",
};

const ACCESS = {
  ACCESS_TEAM_DOMAIN: "regent-team.cloudflareaccess.com",
  ACCESS_AUD: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  ACCESS_ADMIN_EMAILS: "Ada@Example.com, grace@example.com",
  ACCESS_VIEWER_EMAILS: "@example.com",
};

afterEach(() => {
  uninstallSst();
  vi.unstubAllEnvs();
});

function byName(bindings: Binding[]): Record<string, Binding> {
  return Object.fromEntries(bindings.map((b) => [b.name, b]));
}

function secretNames(bindings: Binding[]): string[] {
  return bindings.filter((b) => b.type === "secret_text").map((b) => b.name);
}

async function production(
  env: Record<string, string> = {},
  secrets: Record<string, string> = SECRET_VALUES,
) {
  const evaluation = await evaluateSstConfig({
    stage: "production",
    env: { ...ACCESS, ...env },
    secrets,
  });
  const outputs = await evaluation.run();
  return { ...evaluation, outputs };
}

function workers(evaluation: Evaluation): RecordedWorker[] {
  return evaluation.recording.workers;
}

describe("sst.config.ts app()", () => {
  it("names the app regent and keeps its state on Cloudflare", async () => {
    const { app } = await evaluateSstConfig({ stage: "dev" });
    expect(app.name).toBe("regent");
    expect(app.home).toBe("cloudflare");
  });

  it("retains and protects the production stage", async () => {
    const { app } = await evaluateSstConfig({ stage: "production" });
    expect(app.removal).toBe("retain");
    expect(app.protect).toBe(true);
  });

  it("lets every other stage be removed, unprotected", async () => {
    for (const stage of ["dev", "staging", "pr-42"]) {
      const { app } = await evaluateSstConfig({ stage });
      expect(app.removal, stage).toBe("remove");
      expect(app.protect, stage).toBe(false);
    }
  });
});

describe("sst.config.ts run()", () => {
  it("declares the Api Worker on functions/api.ts with a URL, and returns that URL", async () => {
    const { recording, outputs } = await production();
    const api = recording.worker("Api");
    expect(api.args.handler).toBe("functions/api.ts");
    expect(api.args.url).toBe(true);
    expect(outputs).toBeDefined();
    const url = (outputs as { api: { get(): unknown } }).api.get();
    expect(url).toBe(`https://${api.script.scriptName}.account.workers.dev`);
  });

  it("declares the Claimer Cron on functions/worker.ts every minute, through worker: (not the deprecated job:)", async () => {
    const { recording } = await production();
    expect(recording.crons.map((c) => c.name)).toEqual(["Claimer"]);
    const claimer = recording.cron("Claimer");
    expect(claimer.args.job).toBeUndefined();
    expect(claimer.args.worker).toMatchObject({ handler: "functions/worker.ts" });
    expect(claimer.worker.args.handler).toBe("functions/worker.ts");
    expect(claimer.args.schedules).toEqual([CLAIMER_SCHEDULE]);
    expect(CLAIMER_SCHEDULE).toBe("* * * * *");
    expect(claimer.worker.args.url).toBeUndefined();
    // Exactly two Workers: the Api and the Cron's.
    expect(recording.workers.map((w) => w.name).sort()).toEqual(["Api", "ClaimerHandler"]);
  });

  it("declares the secrets under PascalCase names; only the optional ones have a placeholder", async () => {
    const { recording } = await production();
    expect(recording.secrets).toEqual([
      { name: "DatabaseUrl", placeholder: undefined },
      { name: "SessionSecret", placeholder: undefined },
      { name: "BootstrapAdminToken", placeholder: "" },
      { name: "HttpGeneratorHeaders", placeholder: "" },
      { name: "MetricsToken", placeholder: "" },
      { name: "AlertWebhookUrl", placeholder: "" },
      { name: "AlertWebhookSecret", placeholder: "" },
    ]);
    expect(Object.values(SECRETS).map((s) => s.component)).toEqual(
      recording.secrets.map((s) => s.name),
    );
  });

  it("binds each Worker's secrets as secret_text under the names its entry reads, and no others", async () => {
    const { recording } = await production();
    const api = byName(recording.bindings(recording.worker("Api")));
    const claimer = byName(recording.bindings(recording.cron("Claimer").worker));

    expect(api.DATABASE_URL).toEqual({
      type: "secret_text",
      name: "DATABASE_URL",
      text: SECRET_VALUES.DatabaseUrl,
    });
    expect(api.SESSION_SECRET).toEqual({
      type: "secret_text",
      name: "SESSION_SECRET",
      text: SECRET_VALUES.SessionSecret,
    });
    expect(api.REGENT_BOOTSTRAP_ADMIN_TOKEN).toEqual({
      type: "secret_text",
      name: "REGENT_BOOTSTRAP_ADMIN_TOKEN",
      text: SECRET_VALUES.BootstrapAdminToken,
    });
    expect(claimer.DATABASE_URL).toEqual({
      type: "secret_text",
      name: "DATABASE_URL",
      text: SECRET_VALUES.DatabaseUrl,
    });
    expect(claimer.HTTP_GENERATOR_HEADERS).toEqual({
      type: "secret_text",
      name: "HTTP_GENERATOR_HEADERS",
      text: SECRET_VALUES.HttpGeneratorHeaders,
    });

    expect(api.METRICS_TOKEN).toEqual({
      type: "secret_text",
      name: "METRICS_TOKEN",
      text: SECRET_VALUES.MetricsToken,
    });
    expect(claimer.ALERT_WEBHOOK_URL).toEqual({
      type: "secret_text",
      name: "ALERT_WEBHOOK_URL",
      text: SECRET_VALUES.AlertWebhookUrl,
    });
    expect(claimer.ALERT_WEBHOOK_SECRET).toEqual({
      type: "secret_text",
      name: "ALERT_WEBHOOK_SECRET",
      text: SECRET_VALUES.AlertWebhookSecret,
    });

    expect(secretNames(recording.bindings(recording.worker("Api"))).sort()).toEqual([
      "DATABASE_URL",
      "METRICS_TOKEN",
      "REGENT_BOOTSTRAP_ADMIN_TOKEN",
      "SESSION_SECRET",
    ]);
    expect(secretNames(recording.bindings(recording.cron("Claimer").worker)).sort()).toEqual([
      "ALERT_WEBHOOK_SECRET",
      "ALERT_WEBHOOK_URL",
      "DATABASE_URL",
      "HTTP_GENERATOR_HEADERS",
    ]);
  });

  it("binds the Api Worker, alone, to its two Cloudflare rate limits under the names and numbers its entry reads", async () => {
    const { recording } = await production();
    expect(recording.rateLimits).toEqual([
      {
        name: CLOUDFLARE_SIGN_IN_LIMIT.binding,
        args: {
          namespaceId: SIGN_IN_RATE_LIMIT.namespaceId,
          limit: CLOUDFLARE_SIGN_IN_LIMIT.limit,
          period: "1 minute",
        },
      },
      {
        name: CLOUDFLARE_AUTH_LIMIT.binding,
        args: {
          namespaceId: AUTH_RATE_LIMIT.namespaceId,
          limit: CLOUDFLARE_AUTH_LIMIT.limit,
          period: "1 minute",
        },
      },
    ]);
    // Two limits, two namespaces: one namespace holds one limit's counters.
    expect(AUTH_RATE_LIMIT.namespaceId).not.toBe(SIGN_IN_RATE_LIMIT.namespaceId);
    const api = recording.bindings(recording.worker("Api"));
    expect(api.filter((b) => b.type === "ratelimit")).toEqual([
      {
        type: "ratelimit",
        name: CLOUDFLARE_SIGN_IN_LIMIT.binding,
        namespaceId: String(SIGN_IN_RATE_LIMIT.namespaceId),
        simple: {
          limit: CLOUDFLARE_SIGN_IN_LIMIT.limit,
          period: CLOUDFLARE_SIGN_IN_LIMIT.periodSeconds,
        },
      },
      {
        type: "ratelimit",
        name: CLOUDFLARE_AUTH_LIMIT.binding,
        namespaceId: String(AUTH_RATE_LIMIT.namespaceId),
        simple: {
          limit: CLOUDFLARE_AUTH_LIMIT.limit,
          period: CLOUDFLARE_AUTH_LIMIT.periodSeconds,
        },
      },
    ]);
    // The Worker still gets its secrets next to the binding; the claimer gets no limit.
    expect(secretNames(api).sort()).toEqual([
      "DATABASE_URL",
      "METRICS_TOKEN",
      "REGENT_BOOTSTRAP_ADMIN_TOKEN",
      "SESSION_SECRET",
    ]);
    const claimer = recording.bindings(recording.cron("Claimer").worker);
    expect(claimer.map((b) => b.type)).not.toContain("ratelimit");
  });

  it("declares the claimer's wake-up queue and links the Api Worker, alone, to it as a producer", async () => {
    const { recording } = await production();
    expect(recording.queues.map((q) => q.name)).toEqual([CLAIMER_WAKE.binding]);
    const [queue] = recording.queues;
    const api = recording.bindings(recording.worker("Api"));
    expect(api.filter((b) => b.type === "queue")).toEqual([
      { type: "queue", name: CLAIMER_WAKE.binding, queueName: queue?.queueName },
    ]);
    const claimer = recording.bindings(recording.cron("Claimer").worker);
    expect(claimer.map((b) => b.type)).not.toContain("queue");
    // No service binding is left: the queue is the one wake-up on Cloudflare.
    expect([...api, ...claimer].map((b) => b.type)).not.toContain("service");
    // The claimer's Worker keeps no URL: the queue is the only way in besides the Cron.
    expect(recording.cron("Claimer").worker.args.url).toBeFalsy();
  });

  it("subscribes the claimer's own Worker to the queue, delivering each wake-up at once", async () => {
    const { recording } = await production();
    const [queue] = recording.queues;
    const script = recording.cron("Claimer").worker.script;
    expect(recording.queueConsumers).toHaveLength(1);
    expect(recording.queueConsumers[0]?.args).toEqual({
      accountId: script.accountId,
      queueId: queue?.id,
      scriptName: script.scriptName,
      type: "worker",
      settings: {
        batchSize: CLAIMER_WAKE_BATCH.batchSize,
        maxWaitTimeMs: CLAIMER_WAKE_BATCH.windowMs,
      },
    });
    expect(CLAIMER_WAKE_BATCH).toEqual({ batchSize: 10, windowMs: 0 });
    // No Worker of its own for the consumer: the claimer Worker and the Api Worker only.
    expect(recording.workers.map((w) => w.name).sort()).toEqual(["Api", "ClaimerHandler"]);
  });

  it("keeps SST's own bindings and adds the secrets after them", async () => {
    const { recording } = await production();
    const bindings = recording.bindings(recording.worker("Api"));
    expect(bindings[0]).toMatchObject({ type: "plain_text", name: "SST_RESOURCE_App" });
    expect(JSON.parse(bindings[0]?.text ?? "")).toEqual({ name: "regent", stage: "production" });
  });

  it("passes the stage's variables as plain text, each Worker only its own", async () => {
    const { recording } = await production({
      REQUIRE_DISTINCT_EXECUTOR: "TRUE",
      DATABASE_DRIVER: "http",
      WORKER_BATCH_SIZE: "250",
      WORKER_CONCURRENCY: "8",
      WORKER_LEASE_SECONDS: "300",
      WORKER_BUDGET_MS: "25000",
      JOB_TIMEOUT_MS: "60000",
      HTTP_GENERATOR_URL: "https://generator.example.com/v1/generate",
      HTTP_GENERATOR_TIMEOUT_MS: "30000",
      ACCESS_SUBMITTER_EMAILS: "  ",
    });
    const plain = (worker: RecordedWorker) =>
      Object.fromEntries(
        recording
          .bindings(worker)
          .filter((b) => b.type === "plain_text" && b.name !== "SST_RESOURCE_App")
          .map((b) => [b.name, b.text]),
      );
    expect(plain(recording.worker("Api"))).toEqual({
      ACCESS_TEAM_DOMAIN: "regent-team.cloudflareaccess.com",
      ACCESS_AUD: ACCESS.ACCESS_AUD,
      ACCESS_ADMIN_EMAILS: "ada@example.com,grace@example.com",
      ACCESS_VIEWER_EMAILS: "@example.com",
      REQUIRE_DISTINCT_EXECUTOR: "true",
      DATABASE_DRIVER: "http",
    });
    expect(plain(recording.cron("Claimer").worker)).toEqual({
      WORKER_BATCH_SIZE: "250",
      WORKER_CONCURRENCY: "8",
      WORKER_LEASE_SECONDS: "300",
      WORKER_BUDGET_MS: "25000",
      JOB_TIMEOUT_MS: "60000",
      HTTP_GENERATOR_URL: "https://generator.example.com/v1/generate",
      HTTP_GENERATOR_TIMEOUT_MS: "30000",
    });
  });

  it("puts no secret value in plain text: not in any environment, not in any plain_text binding", async () => {
    const evaluation = await production({
      WORKER_BATCH_SIZE: "100",
      HTTP_GENERATOR_URL: "https://generator.example.com/",
    });
    const values = Object.values(SECRET_VALUES);
    const secretEnvNames = Object.keys(SECRETS);
    for (const worker of workers(evaluation)) {
      const environment = (worker.args.environment ?? {}) as Record<string, string>;
      for (const name of secretEnvNames) expect(environment, worker.name).not.toHaveProperty(name);
      for (const text of Object.values(environment)) expect(values).not.toContain(text);
      for (const binding of evaluation.recording.bindings(worker)) {
        if (binding.type === "secret_text") continue;
        for (const value of values) expect(binding.text ?? "", worker.name).not.toContain(value);
      }
    }
  });

  it("leaves an optional secret that is not set unbound, so the entry sees it absent", async () => {
    const { recording } = await production(
      {},
      { DatabaseUrl: SECRET_VALUES.DatabaseUrl, SessionSecret: SECRET_VALUES.SessionSecret },
    );
    expect(secretNames(recording.bindings(recording.worker("Api"))).sort()).toEqual([
      "DATABASE_URL",
      "SESSION_SECRET",
    ]);
    expect(secretNames(recording.bindings(recording.cron("Claimer").worker))).toEqual([
      "DATABASE_URL",
    ]);
  });

  it("never deploys NEON_WS_PROXY, even when the deploying shell sets it", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const evaluation = await production({ NEON_WS_PROXY: "127.0.0.1:8788/v1" });
    for (const worker of workers(evaluation)) {
      const names = evaluation.recording.bindings(worker).map((b) => b.name);
      expect(names, worker.name).not.toContain("NEON_WS_PROXY");
      expect(worker.args.environment, worker.name).not.toHaveProperty("NEON_WS_PROXY");
    }
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/NEON_WS_PROXY .* not deployed/));
    warn.mockRestore();
  });

  it("runs both Workers with the compatibility date and flags of infra/worker-settings.ts", async () => {
    const evaluation = await production();
    expect(workers(evaluation)).toHaveLength(2);
    for (const worker of workers(evaluation)) {
      expect(worker.script.compatibilityDate, worker.name).toBe(compatibilityDate);
      expect(worker.script.compatibilityFlags, worker.name).toEqual([...compatibilityFlags]);
    }
    expect(compatibilityFlags).toContain("nodejs_compat");
  });

  it("runs both Workers with Smart Placement, so that Cloudflare may move them near the database", async () => {
    const evaluation = await production();
    // The claimer first: the Api Worker is bound to its script.
    expect(workers(evaluation).map((worker) => [worker.name, worker.placement])).toEqual([
      ["ClaimerHandler", { mode: "smart" }],
      ["Api", { mode: "smart" }],
    ]);
  });

  it("uses a compatibility date the installed workerd supports", () => {
    const workerd = createRequire(import.meta.url)("workerd") as { compatibilityDate: string };
    expect(compatibilityDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(compatibilityDate <= workerd.compatibilityDate).toBe(true);
  });
});

describe("a configuration that must not be deployed is refused, naming what is wrong", () => {
  it("a production stage without Cloudflare Access", async () => {
    const evaluation = await evaluateSstConfig({ stage: "production", secrets: SECRET_VALUES });
    await expect(evaluation.run()).rejects.toThrow(
      /invalid configuration for stage "production":\n.*ACCESS_TEAM_DOMAIN, ACCESS_AUD: .*ACCESS_DISABLED=true/,
    );
    expect(evaluation.recording.workers).toEqual([]);
  });

  it("…unless ACCESS_DISABLED=true says so explicitly; other stages need no Access", async () => {
    const optedOut = await evaluateSstConfig({
      stage: "production",
      env: { ACCESS_DISABLED: "true" },
      secrets: SECRET_VALUES,
    });
    await optedOut.run();
    const api = optedOut.recording.worker("Api");
    expect(optedOut.recording.bindings(api).map((b) => b.name)).not.toContain("ACCESS_DISABLED");
    expect(api.args.environment).toEqual({});

    const dev = await evaluateSstConfig({ stage: "dev", secrets: SECRET_VALUES });
    await dev.run();
    expect(dev.recording.workers).toHaveLength(2);
  });

  it("every malformed variable at once", async () => {
    const evaluation = await evaluateSstConfig({
      stage: "staging",
      env: {
        ACCESS_AUD: "aud-without-team",
        ACCESS_ADMIN_EMAILS: "ada@example.com, not-an-address",
        REQUIRE_DISTINCT_EXECUTOR: "maybe",
        WORKER_BATCH_SIZE: "ten",
        WORKER_CONCURRENCY: "0",
        WORKER_BUDGET_MS: "3600000",
        HTTP_GENERATOR_URL: "ftp://generator.example.com",
      },
      secrets: SECRET_VALUES,
    });
    const error = await evaluation.run().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/^invalid configuration for stage "staging":/);
    for (const name of [
      "ACCESS_ADMIN_EMAILS: each entry is an e-mail address or @domain (not not-an-address)",
      'REQUIRE_DISTINCT_EXECUTOR: must be "true" or "false"',
      "WORKER_BATCH_SIZE: must be a whole number",
      "WORKER_CONCURRENCY: must be at least 1",
      "WORKER_BUDGET_MS: must be at most 900000",
      "HTTP_GENERATOR_URL: must be an http:// or https:// URL",
    ]) {
      expect(error?.message).toContain(name);
    }
    expect(evaluation.recording.workers).toEqual([]);
  });

  it("inconsistent settings: half of Access, roles without Access, Access without roles, a timeout beyond the lease", () => {
    const problems = (env: Record<string, string>, stage = "staging") => {
      try {
        readStageConfig(stage, env);
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems({ ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.com" })).toContain(
      "ACCESS_AUD: ACCESS_TEAM_DOMAIN and ACCESS_AUD are set together or not at all",
    );
    expect(problems({ ACCESS_VIEWER_EMAILS: "@example.com" })).toContain(
      "have no effect without Cloudflare Access",
    );
    expect(
      problems({ ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.com", ACCESS_AUD: "aud" }),
    ).toContain("no ACCESS_*_EMAILS list names anyone");
    expect(problems({ ...ACCESS, ACCESS_DISABLED: "true" }, "production")).toContain(
      "ACCESS_DISABLED: is true, yet ACCESS_TEAM_DOMAIN or ACCESS_AUD is set",
    );
    expect(problems({ WORKER_LEASE_SECONDS: "60", JOB_TIMEOUT_MS: "60000" })).toContain(
      "JOB_TIMEOUT_MS: must be shorter than the lease (WORKER_LEASE_SECONDS = 60 s)",
    );
    expect(
      problems({ ...ACCESS, HTTP_GENERATOR_URL: "http://g.example.com" }, "production"),
    ).toContain("HTTP_GENERATOR_URL: must be https:// on the production stage");
    expect(
      problems({ ...ACCESS, HTTP_GENERATOR_URL: "HTTP://g.example.com" }, "production"),
    ).toContain("HTTP_GENERATOR_URL: must be https:// on the production stage");
    // ACCESS_DISABLED is read with the runtimes' flag spellings.
    expect(problems({ ACCESS_DISABLED: "yes" }, "production")).toBe("");
    expect(problems({}, "Production")).toContain('stage "Production": must be');
    // The same settings on a stage where they are consistent pass.
    expect(problems({ WORKER_LEASE_SECONDS: "61", JOB_TIMEOUT_MS: "60000" })).toBe("");
  });

  it("a malformed secret stops its Worker, naming the secret and never quoting its value", async () => {
    const evaluation = await production(
      {},
      {
        DatabaseUrl: "mysql://regent:hunter2-password@db.example.com/regent",
        SessionSecret: "short-secret",
        BootstrapAdminToken: "",
        HttpGeneratorHeaders: '{"authorization": 42}',
        MetricsToken: "",
        AlertWebhookUrl: "https://alerts.example.com/regent",
        AlertWebhookSecret: "",
      },
    );
    const { recording } = evaluation;
    let message = "";
    try {
      recording.bindings(recording.worker("Api"));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^invalid secrets for stage "production":/);
    expect(message).toContain("DatabaseUrl (DATABASE_URL): must be a postgres://");
    expect(message).toContain("SessionSecret (SESSION_SECRET): must be at least 32 characters");
    expect(message).toContain("sst secret set <Name> <value> --stage production");
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("short-secret");
    expect(() => recording.bindings(recording.cron("Claimer").worker)).toThrow(
      /HttpGeneratorHeaders \(HTTP_GENERATOR_HEADERS\): must be a JSON object of strings/,
    );
    // A webhook without its signing key would leave the Claimer refusing to run.
    expect(() => recording.bindings(recording.cron("Claimer").worker)).toThrow(
      /AlertWebhookSecret \(ALERT_WEBHOOK_SECRET\): is required with AlertWebhookUrl/,
    );
  });
});

describe("the SST CLI that npm run deploy runs", () => {
  const installed = (pkg: string) =>
    (
      JSON.parse(readFileSync(join(PROJECT_ROOT, "node_modules", pkg, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;

  it("is the sst of node_modules, pinned exactly, told to accept the locked Bun", () => {
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    expect(manifest.devDependencies.sst).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.devDependencies.bun).toMatch(/^\d+\.\d+\.\d+$/);
    expect(installed("sst")).toBe(manifest.devDependencies.sst);

    const { command, env } = sstCommand({ PATH: "/nowhere" });
    expect(command).toBe(LOCAL_SST);
    expect(realpathSync(command)).toBe(
      realpathSync(join(PROJECT_ROOT, "node_modules/sst/bin/sst.mjs")),
    );
    expect(env).toEqual({ PATH: "/nowhere", SST_BUN_VERSION: installed("bun") });
  });

  it("is SST_BIN instead when it is set, with the environment as it is", () => {
    expect(sstCommand({ SST_BIN: " /opt/sst/bin/sst " })).toEqual({
      command: "/opt/sst/bin/sst",
      env: { SST_BIN: " /opt/sst/bin/sst " },
    });
  });

  it("runs, and is the release the lockfile names", async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        LOCAL_SST,
        ["version"],
        { env: { ...process.env, SST_SKIP_DEPENDENCY_CHECK: "1", SST_TELEMETRY_DISABLED: "1" } },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
    expect(output.trim()).toBe(`sst ${installed("sst")}`);
  });

  it.runIf(process.platform === "linux")(
    "finds Bun where SST looks for it: the user's config folder, worked out at run time",
    () => {
      expect(sstBunPath({})).toBe(join(homedir(), ".config", "sst", "bin", "bun"));
      expect(sstBunPath({ XDG_CONFIG_HOME: "/srv/config" })).toBe("/srv/config/sst/bin/bun");
      expect(sstBunPath({ XDG_CONFIG_HOME: "relative/config" })).toBe(
        join(homedir(), ".config", "sst", "bin", "bun"),
      );
    },
  );
});
