/**
 * The runtimes' configuration (functions/config/): the API's and the worker's environment, and
 * the field rules they share with the deploy check.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_PORT, loadConfig } from "../../functions/config/api";
import { flag } from "../../functions/config/fields";
import { loadWorkerConfig, WorkerConfigError } from "../../functions/config/worker";

describe("loadConfig", () => {
  it("runs with nothing set: embedded database, no Access, four-eyes off, port 8787", () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      neonWsProxy: undefined,
      databaseDriver: "http",
      neonHttpEndpoint: undefined,
      access: undefined,
      bootstrapAdminToken: undefined,
      requireDistinctExecutor: false,
      port: DEFAULT_PORT,
      policy: {
        requireDistinctExecutor: false,
        retryBudget: 3,
        intentTtlHours: 72,
        retryBatchMax: 1000,
      },
      metricsToken: undefined,
      authFailureLimit: { failures: 20, windowSeconds: 60 },
      surge: { factor: 3, min: 10 },
    });
  });

  it("reads the failed-authentication limit, and refuses a limit of none or a window over a day", () => {
    expect(
      loadConfig({ AUTH_FAILURE_LIMIT: "3", AUTH_FAILURE_WINDOW_SECONDS: "2" }).authFailureLimit,
    ).toEqual({ failures: 3, windowSeconds: 2 });
    expect(() => loadConfig({ AUTH_FAILURE_LIMIT: "0" })).toThrow(
      /AUTH_FAILURE_LIMIT: must be at least 1/,
    );
    expect(() => loadConfig({ AUTH_FAILURE_WINDOW_SECONDS: "86401" })).toThrow(
      /AUTH_FAILURE_WINDOW_SECONDS: must be at most 86400/,
    );
  });

  it("reads the retry governance settings and refuses them out of range", () => {
    const config = loadConfig({
      RETRY_BUDGET: "0",
      INTENT_TTL_HOURS: "720",
      RETRY_BATCH_MAX: "250",
      RETRY_SURGE_FACTOR: "2.5",
      RETRY_SURGE_MIN: "4",
      REQUIRE_DISTINCT_EXECUTOR: "yes",
    });
    expect(config.policy).toEqual({
      requireDistinctExecutor: true,
      retryBudget: 0,
      intentTtlHours: 720,
      retryBatchMax: 250,
    });
    expect(config.surge).toEqual({ factor: 2.5, min: 4 });
    expect(() => loadConfig({ INTENT_TTL_HOURS: "721" })).toThrow(
      /INTENT_TTL_HOURS: must be at most 720/,
    );
    expect(() => loadConfig({ RETRY_BUDGET: "-1" })).toThrow(/RETRY_BUDGET: must be at least 0/);
    expect(() => loadConfig({ RETRY_SURGE_FACTOR: "lots" })).toThrow(
      /RETRY_SURGE_FACTOR: must be a number/,
    );
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(
      /METRICS_TOKEN: must be at least 16/,
    );
  });

  it("reads the API Worker's database driver: http, unless a WebSocket proxy is set or websocket asked for", () => {
    expect(loadConfig({ DATABASE_DRIVER: " http " }).databaseDriver).toBe("http");
    expect(loadConfig({ DATABASE_DRIVER: "" }).databaseDriver).toBe("http");
    expect(loadConfig({ DATABASE_DRIVER: "websocket" }).databaseDriver).toBe("websocket");
    const proxy = "127.0.0.1:5433/v1";
    expect(loadConfig({ NEON_WS_PROXY: proxy }).databaseDriver).toBe("websocket");
    expect(loadConfig({ NEON_WS_PROXY: proxy, DATABASE_DRIVER: "http" }).databaseDriver).toBe(
      "http",
    );
    expect(loadConfig({ NEON_HTTP_ENDPOINT: "http://127.0.0.1:4444/sql" }).neonHttpEndpoint).toBe(
      "http://127.0.0.1:4444/sql",
    );
    expect(() => loadConfig({ DATABASE_DRIVER: "tcp" })).toThrow(
      /DATABASE_DRIVER: must be websocket or http/,
    );
    expect(() => loadConfig({ NEON_HTTP_ENDPOINT: "file:///etc/passwd" })).toThrow(
      /NEON_HTTP_ENDPOINT/,
    );
  });

  it("treats blank values as unset", () => {
    expect(
      loadConfig({ DATABASE_URL: "  ", PORT: "", ACCESS_AUD: " " }).databaseUrl,
    ).toBeUndefined();
  });

  it("derives the Access issuer and key URL from the team domain, with or without https://", () => {
    for (const domain of ["acme.cloudflareaccess.com", "https://acme.cloudflareaccess.com/"]) {
      const { access } = loadConfig({
        ACCESS_TEAM_DOMAIN: domain,
        ACCESS_AUD: "aud-1, aud-2",
        ACCESS_ADMIN_EMAILS: "Alice@Example.com, @ops.example.com",
      });
      expect(access).toEqual({
        issuer: "https://acme.cloudflareaccess.com",
        certsUrl: "https://acme.cloudflareaccess.com/cdn-cgi/access/certs",
        audience: ["aud-1", "aud-2"],
        adminEmails: ["alice@example.com", "@ops.example.com"],
        viewerEmails: [],
        submitterEmails: [],
      });
    }
  });

  it.each([
    [{ REQUIRE_DISTINCT_EXECUTOR: "true" }, true],
    [{ REQUIRE_DISTINCT_EXECUTOR: "1" }, true],
    [{ REQUIRE_DISTINCT_EXECUTOR: "off" }, false],
    [{ REQUIRE_DISTINCT_EXECUTOR: "" }, false],
  ])("reads REQUIRE_DISTINCT_EXECUTOR %j as %s", (env, value) => {
    expect(loadConfig(env).requireDistinctExecutor).toBe(value);
  });

  it("reads a Worker's JSON-typed variables as their text rather than ignoring them", () => {
    const config = loadConfig({ REQUIRE_DISTINCT_EXECUTOR: true, PORT: 8080 });
    expect(config.requireDistinctExecutor).toBe(true);
    expect(config.port).toBe(8080);
  });

  it.each([
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ PORT: "http" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ ACCESS_TEAM_DOMAIN: "acme.cloudflareaccess.com" }, "ACCESS_AUD"],
    [{ ACCESS_AUD: "x" }, "ACCESS_TEAM_DOMAIN"],
    [{ ACCESS_TEAM_DOMAIN: "not a domain", ACCESS_AUD: "x" }, "ACCESS_TEAM_DOMAIN"],
    [{ ACCESS_VIEWER_EMAILS: "bob" }, "ACCESS_VIEWER_EMAILS"],
    [{ REGENT_BOOTSTRAP_ADMIN_TOKEN: "short" }, "REGENT_BOOTSTRAP_ADMIN_TOKEN"],
    [{ REQUIRE_DISTINCT_EXECUTOR: "maybe" }, "REQUIRE_DISTINCT_EXECUTOR"],
    [{ SESSION_SECRET: `${"s".repeat(31)} ` }, "SESSION_SECRET: must be at least 32 characters"],
  ])("refuses %j, naming %s", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it("lists every problem at once", () => {
    try {
      loadConfig({ PORT: "x", DATABASE_URL: "nope" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/);
    }
  });
});

describe("loadWorkerConfig", () => {
  it("has defaults for everything, and no http URL unless configured", () => {
    expect(loadWorkerConfig({})).toEqual({
      databaseUrl: undefined,
      neonWsProxy: undefined,
      batchSize: 500,
      concurrency: 16,
      leaseSeconds: 300,
      budgetMs: 25_000,
      intervalMs: 2_000,
      jobTimeoutMs: 60_000,
      http: { url: undefined, timeoutMs: 30_000, headers: {} },
      alerts: undefined,
      surge: { factor: 3, min: 10 },
    });
  });

  it("takes an alert webhook only with its signing secret", () => {
    expect(() =>
      loadWorkerConfig({ ALERT_WEBHOOK_URL: "https://alerts.example.com/regent" }),
    ).toThrow(/ALERT_WEBHOOK_SECRET: is required with ALERT_WEBHOOK_URL/);
    expect(
      loadWorkerConfig({
        ALERT_WEBHOOK_URL: "https://alerts.example.com/regent",
        ALERT_WEBHOOK_SECRET: "a-signing-secret-of-length",
      }).alerts,
    ).toEqual({ url: "https://alerts.example.com/regent", secret: "a-signing-secret-of-length" });
  });

  it("reads every variable, treating an empty one as unset", () => {
    const config = loadWorkerConfig({
      DATABASE_URL: " postgres://db.example.com/regent ",
      NEON_WS_PROXY: "127.0.0.1:8788/v1",
      WORKER_BATCH_SIZE: "100",
      WORKER_CONCURRENCY: "8",
      WORKER_LEASE_SECONDS: "120",
      WORKER_BUDGET_MS: "",
      JOB_TIMEOUT_MS: "5000",
      HTTP_GENERATOR_URL: "https://generator.example/v1/run",
      HTTP_GENERATOR_TIMEOUT_MS: "2500",
      HTTP_GENERATOR_HEADERS: '{"authorization":"Bearer abc"}',
      UNRELATED: "ignored",
    });
    expect(config).toMatchObject({
      databaseUrl: "postgres://db.example.com/regent",
      neonWsProxy: "127.0.0.1:8788/v1",
      batchSize: 100,
      concurrency: 8,
      leaseSeconds: 120,
      budgetMs: 25_000,
      jobTimeoutMs: 5000,
      http: {
        url: "https://generator.example/v1/run",
        timeoutMs: 2500,
        headers: { authorization: "Bearer abc" },
      },
    });
  });

  it.each([
    [{ WORKER_BATCH_SIZE: "lots" }, "WORKER_BATCH_SIZE: must be a whole number"],
    [{ WORKER_BATCH_SIZE: "0" }, "WORKER_BATCH_SIZE: must be at least 1"],
    [{ WORKER_CONCURRENCY: "2.5" }, "WORKER_CONCURRENCY: must be a whole number"],
    [{ WORKER_BUDGET_MS: "900001" }, "WORKER_BUDGET_MS: must be at most 900000: Cloudflare ends"],
    [{ HTTP_GENERATOR_URL: "file:///etc/passwd" }, "HTTP_GENERATOR_URL: must be an http"],
    [{ HTTP_GENERATOR_HEADERS: "{nope" }, "HTTP_GENERATOR_HEADERS: must be a JSON object"],
    [{ HTTP_GENERATOR_HEADERS: '["a"]' }, "HTTP_GENERATOR_HEADERS"],
    [{ JOB_TIMEOUT_MS: "300000" }, "JOB_TIMEOUT_MS: must be shorter than the lease"],
    [{ WORKER_LEASE_SECONDS: "30" }, "JOB_TIMEOUT_MS: must be shorter than the lease"],
    [{ DATABASE_URL: "mysql://db.example.com/regent" }, "DATABASE_URL: must be a postgres://"],
  ])("refuses %o with a message naming the variable", (env, message) => {
    expect(() => loadWorkerConfig(env)).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig(env)).toThrow(message);
  });

  it("lists every bad variable at once", () => {
    expect(() => loadWorkerConfig({ WORKER_BATCH_SIZE: "-1", WORKER_LEASE_SECONDS: "x" })).toThrow(
      /WORKER_BATCH_SIZE[\s\S]*WORKER_LEASE_SECONDS/,
    );
  });

  it("reports a job timeout that is out of range once, not also as longer than the lease", () => {
    const message = (() => {
      try {
        loadWorkerConfig({ JOB_TIMEOUT_MS: "3600001" });
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain("JOB_TIMEOUT_MS: must be at most 3600000");
    expect(message).not.toContain("shorter than the lease");
  });
});

describe("flag: one set of spellings for every runtime and the deploy check", () => {
  it.each([
    ...["true", "TRUE", "True", "1", "yes", "YES", "on", " On "].map((v) => [v, true] as const),
    ...["false", "FALSE", "0", "no", "off", "Off"].map((v) => [v, false] as const),
    ...["", " ", undefined].map((v) => [v, false] as const),
  ])("reads %j as %s", (value, expected) => {
    expect(flag.parse(value)).toBe(expected);
  });

  it.each(["maybe", "2", "y", "n", "enabled", "constructor"])("refuses %j", (value) => {
    const result = flag.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('must be "true" or "false"');
  });
});
