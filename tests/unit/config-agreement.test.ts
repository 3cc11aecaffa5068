/**
 * The deploy check (infra/config.ts) and the two runtimes must agree: a configuration that
 * `npm run deploy` lets through must start the Api Worker and the Claimer, or a deployment
 * succeeds and then every request or every Cron run fails.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/config/api";
import { loadWorkerConfig } from "../../functions/config/worker";
import {
  API_VARIABLES,
  CLAIMER_VARIABLES,
  readStageConfig,
  type SecretName,
  StageConfigError,
  secretProblems,
} from "../../infra/config";

/** infra/secrets.ts's NOT_SET: an optional secret with this value is not bound. */
const NOT_SET = "";

/** The secrets each Worker is bound to (infra/api.ts, infra/claimer.ts). */
const API_SECRETS: readonly SecretName[] = [
  "DATABASE_URL",
  "SESSION_SECRET",
  "REGENT_BOOTSTRAP_ADMIN_TOKEN",
  "METRICS_TOKEN",
];
const CLAIMER_SECRETS: readonly SecretName[] = [
  "DATABASE_URL",
  "HTTP_GENERATOR_HEADERS",
  "ALERT_WEBHOOK_URL",
  "ALERT_WEBHOOK_SECRET",
];

const BLANK = ["", " ", "\t"];
const JUNK = ["junk", "\u00e9t\u00e9", "null", "[]", "{}"];

const numbers = [
  ...BLANK,
  ...["0", "1", "5", "9", "10", "50", "99", "100", "250", "500", "999", "1000", "1001"],
  ...["5000", "5001", "10000", "30000", "60000", "299999", "300000", "900000", "900001"],
  ...["86400", "86401", "3600000", "3600001", "-1", "2.5", "1e3", " 42 ", "0x10", "ten"],
  ...JUNK,
];
const flags = [
  ...BLANK,
  ...["true", "false", "TRUE", "False", "1", "0", "yes", "no", "on", "off", "Yes", " true "],
  ...["maybe", "2", "y", "n", ...JUNK],
];
const emails = [
  ...BLANK,
  ...["ada@example.com", "Ada@Example.com, grace@example.com", "@example.com", ","],
  ...["ada@example.com,,@ops.example.com", "bob", "a@b@c", "ada@example.com not-an-address"],
  ...JUNK,
];

/** For every variable either runtime reads (and the deploy check's own), values worth trying. */
const POOLS: Record<string, readonly string[]> = {
  ACCESS_TEAM_DOMAIN: [
    ...BLANK,
    ...["team.cloudflareaccess.com", "https://team.cloudflareaccess.com/", "TEAM.Example.COM"],
    ...["localhost", "not a domain", "ftp://team.example.com", "https://"],
    ...JUNK,
  ],
  ACCESS_AUD: [...BLANK, "aud", "aud-1, aud-2", ",", "0123456789abcdef", ...JUNK],
  ACCESS_ADMIN_EMAILS: emails,
  ACCESS_VIEWER_EMAILS: emails,
  ACCESS_SUBMITTER_EMAILS: emails,
  ACCESS_DISABLED: flags,
  REQUIRE_DISTINCT_EXECUTOR: flags,
  WORKER_BATCH_SIZE: numbers,
  WORKER_CONCURRENCY: numbers,
  WORKER_LEASE_SECONDS: numbers,
  WORKER_BUDGET_MS: numbers,
  WORKER_SUBREQUEST_BUDGET: [...numbers, "10000000", "10000001"],
  WORKER_INTERVAL_MS: numbers,
  JOB_TIMEOUT_MS: numbers,
  HTTP_GENERATOR_TIMEOUT_MS: numbers,
  HTTP_GENERATOR_URL: [
    ...BLANK,
    ...[
      "https://generator.example.com/v1",
      "http://generator.example.com",
      "http://localhost:8080/x",
    ],
    ...[" https://generator.example.com ", "ftp://generator.example.com", "file:///etc/passwd"],
    ...["not a url", "https://", ...JUNK],
  ],
  NEON_WS_PROXY: [...BLANK, "127.0.0.1:8788/v1"],
  DATABASE_DRIVER: [...BLANK, "websocket", "http", " http ", "HTTP", "tcp", ...JUNK],
  NEON_HTTP_ENDPOINT: [...BLANK, "http://127.0.0.1:4444/sql", "ftp://x", ...JUNK],
  // Read by the runtimes from the deploying shell's neighbours but never deployed as plain text.
  PORT: [...BLANK, "8787", "0", "70000", "http"],
  DATABASE_URL: [...BLANK, "postgres://localhost/regent", "mysql://localhost/regent"],
  SESSION_SECRET: [...BLANK, "short", "s".repeat(40)],
  REGENT_BOOTSTRAP_ADMIN_TOKEN: [...BLANK, "short", "t".repeat(20)],
  HTTP_GENERATOR_HEADERS: [...BLANK, "{nope", '{"a":"b"}'],
};

/** Per secret: the values it usually holds, then its edge cases (boundaries, blanks, junk). */
const SECRET_POOLS: Record<SecretName, [usual: string[], edge: string[]]> = {
  DATABASE_URL: [
    ["postgres://regent:pw@db.example.com/regent", "postgresql://db.example.com/regent"],
    [" postgres://db.example.com/regent ", "postgres://", "postgres://db example/regent"].concat([
      "mysql://db.example.com/regent",
      ...BLANK,
    ]),
  ],
  SESSION_SECRET: [
    ["s".repeat(32), "s".repeat(48)],
    ["s".repeat(512), ` ${"s".repeat(32)} `, "s".repeat(31), `${"s".repeat(31)} `].concat([
      ` ${"s".repeat(31)}`,
      " ".repeat(40),
      "s".repeat(513),
      ...BLANK,
    ]),
  ],
  REGENT_BOOTSTRAP_ADMIN_TOKEN: [
    [NOT_SET, "t".repeat(16), "t".repeat(64)],
    ["t".repeat(512), ` ${"t".repeat(16)}`, "t".repeat(15), `${"t".repeat(15)} `].concat([
      "t".repeat(513),
      " ",
      "\t",
    ]),
  ],
  HTTP_GENERATOR_HEADERS: [
    [NOT_SET, "{}", '{"authorization":"Bearer x"}'],
    [' {"a":"b"} ', " ", '{"a":1}', '{"a":null}', "[]", '["a"]', "null", '"text"', "{nope", "42"],
  ],
  METRICS_TOKEN: [
    [NOT_SET, "m".repeat(16), "m".repeat(40)],
    ["m".repeat(15), ` ${"m".repeat(16)} `, " ", "m".repeat(513)],
  ],
  ALERT_WEBHOOK_URL: [
    [NOT_SET, "https://alerts.example.com/regent"],
    ["http://alerts.example.com", "ftp://alerts.example.com", "not a url", " "],
  ],
  ALERT_WEBHOOK_SECRET: [
    [NOT_SET, "w".repeat(16), "w".repeat(40)],
    ["w".repeat(15), " ", "w".repeat(513)],
  ],
};

const optionalFrom = (pool: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 5 },
    { arbitrary: fc.constantFrom(...pool), weight: 1 },
  );

const environments = fc
  .record(
    Object.fromEntries(Object.entries(POOLS).map(([name, pool]) => [name, optionalFrom(pool)])),
  )
  .map(
    (env) =>
      Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as Record<
        string,
        string
      >,
  );

const secretValues = fc.record(
  Object.fromEntries(
    Object.entries(SECRET_POOLS).map(([name, [usual, edge]]) => [
      name,
      fc.oneof(
        { arbitrary: fc.constantFrom(...usual), weight: 5 },
        { arbitrary: fc.constantFrom(...edge), weight: 1 },
      ),
    ]),
  ) as Record<SecretName, fc.Arbitrary<string>>,
);

const stages = fc.constantFrom("production", "staging", "pr-42");

/** What a Worker's `env` holds: its plain variables, and its secrets that are bound. */
function workerEnv(
  plain: Record<string, string>,
  secrets: Record<SecretName, string>,
  names: readonly SecretName[],
): Record<string, string> {
  const bound = names.filter((name) => secrets[name] !== NOT_SET);
  return { ...plain, ...Object.fromEntries(bound.map((name) => [name, secrets[name]])) };
}

/** The deploy check's verdict: the StageConfig, or the message of its refusal. */
function deployCheck(stage: string, env: Record<string, string>) {
  try {
    return { config: readStageConfig(stage, env), refusal: undefined };
  } catch (error) {
    if (!(error instanceof StageConfigError)) throw error;
    return { config: undefined, refusal: error.message };
  }
}

function refusal(load: () => unknown): string | undefined {
  try {
    load();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("the deploy check and the runtimes agree", () => {
  it("every configuration and secret the deploy check accepts starts both Workers", () => {
    let accepted = 0;
    fc.assert(
      fc.property(stages, environments, secretValues, (stage, env, secrets) => {
        const { config } = deployCheck(stage, env);
        if (!config || secretProblems(secrets).length > 0) return;
        accepted++;
        const api = loadConfig(workerEnv(config.api, secrets, API_SECRETS));
        // functions/api.ts refuses to serve without these two.
        expect(api.databaseUrl).toBeDefined();
        expect(api.sessionSecret).toBeDefined();
        const claimer = loadWorkerConfig(workerEnv(config.claimer, secrets, CLAIMER_SECRETS));
        // functions/worker.ts refuses to run without it.
        expect(claimer.databaseUrl).toBeDefined();
        // What is deployed means what the shell said: normalising it changed nothing.
        const asTyped = (names: readonly string[]) =>
          Object.fromEntries(
            names.flatMap((name) => {
              const value = env[name];
              return value === undefined ? [] : [[name, value]];
            }),
          );
        expect(api).toEqual(loadConfig(workerEnv(asTyped(API_VARIABLES), secrets, API_SECRETS)));
        expect(claimer).toEqual(
          loadWorkerConfig(workerEnv(asTyped(CLAIMER_VARIABLES), secrets, CLAIMER_SECRETS)),
        );
      }),
      { numRuns: 5000 },
    );
    // Not vacuous: a good share of the generated configurations reached the runtimes.
    // About one in twenty (each variable generated has its share of bad values): some 250.
    expect(accepted).toBeGreaterThan(100);
  });

  it("a single deployed variable is refused by the deploy check exactly when the runtime refuses it", () => {
    // A stage on which every stage-level rule holds, so that only the variable decides.
    const base = {
      ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.com",
      ACCESS_AUD: "aud",
      ACCESS_ADMIN_EMAILS: "ada@example.com",
      ACCESS_VIEWER_EMAILS: "@example.com",
    };
    for (const name of [...API_VARIABLES, ...CLAIMER_VARIABLES]) {
      for (const value of POOLS[name] ?? []) {
        const env = { ...base, [name]: value };
        const { config, refusal: deployRefusal } = deployCheck("staging", env);
        const runtime = (API_VARIABLES as readonly string[]).includes(name)
          ? refusal(() => loadConfig(env))
          : refusal(() => loadWorkerConfig({ [name]: value }));
        const verdict = `${name}=${JSON.stringify(value)}`;
        expect(deployRefusal === undefined, `${verdict}: ${deployRefusal ?? runtime}`).toBe(
          runtime === undefined,
        );
        if (deployRefusal) expect(deployRefusal, verdict).toContain(name);
        else expect(config, verdict).toBeDefined();
      }
    }
  });
});

describe("regressions: values the deploy check let through and the Claimer refused", () => {
  it.each([
    ["WORKER_BATCH_SIZE", "10000", "WORKER_BATCH_SIZE: must be at most 5000"],
    ["WORKER_LEASE_SECONDS", "5", "WORKER_LEASE_SECONDS: must be at least 10"],
    ["WORKER_BUDGET_MS", "50", "WORKER_BUDGET_MS: must be at least 100"],
  ])("%s=%s is refused at deploy, as the Claimer refuses it", (name, value, message) => {
    const env = { [name]: value };
    expect(refusal(() => loadWorkerConfig(env))).toContain(message);
    expect(deployCheck("staging", env).refusal).toContain(message);
  });

  it("a lease shorter than the default job timeout is refused at deploy, as the Claimer refuses it", () => {
    const env = { WORKER_LEASE_SECONDS: "30" };
    expect(refusal(() => loadWorkerConfig(env))).toContain("JOB_TIMEOUT_MS: must be shorter");
    expect(deployCheck("staging", env).refusal).toContain("JOB_TIMEOUT_MS: must be shorter");
  });
});

describe("regressions: values the Api Worker accepted and the deploy check refused", () => {
  it.each([
    ["yes", true],
    ["on", true],
    ["1", true],
    ["TRUE", true],
    ["no", false],
    ["off", false],
    ["0", false],
  ])("REQUIRE_DISTINCT_EXECUTOR=%s is deployed, and read as %s", (value, expected) => {
    const { config, refusal: deployRefusal } = deployCheck("staging", {
      REQUIRE_DISTINCT_EXECUTOR: value,
    });
    expect(deployRefusal).toBeUndefined();
    expect(loadConfig(config?.api ?? {}).requireDistinctExecutor).toBe(expected);
    expect(loadConfig({ REQUIRE_DISTINCT_EXECUTOR: value }).requireDistinctExecutor).toBe(expected);
  });
});

describe("regressions: secrets the deploy check let through and the Api Worker could not use", () => {
  it.each([
    ["spaces only", " ".repeat(40)],
    ["31 characters and a space", `${"s".repeat(31)} `],
    ["longer than 512 characters", "s".repeat(513)],
  ])(
    "a SessionSecret of %s is refused at deploy, as the Api Worker cannot sign with it",
    (_, value) => {
      expect(secretProblems({ SESSION_SECRET: value })).toEqual([
        expect.stringMatching(/^SessionSecret \(SESSION_SECRET\): /),
      ]);
      const usable = (() => {
        try {
          return loadConfig({ SESSION_SECRET: value }).sessionSecret !== undefined;
        } catch {
          return false;
        }
      })();
      expect(usable).toBe(false);
    },
  );
});
