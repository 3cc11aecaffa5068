import { describe, expect, it } from "vitest";
import { loadWorkerConfig, WorkerConfigError } from "../../functions/execution/config";

describe("loadWorkerConfig", () => {
  it("has defaults for everything, and no http URL unless configured", () => {
    expect(loadWorkerConfig({})).toEqual({
      batchSize: 500,
      concurrency: 16,
      leaseSeconds: 300,
      budgetMs: 25_000,
      intervalMs: 2_000,
      jobTimeoutMs: 60_000,
      http: { url: undefined, timeoutMs: 30_000, headers: {} },
    });
  });

  it("reads every variable, treating an empty one as unset", () => {
    const config = loadWorkerConfig({
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
    [{ HTTP_GENERATOR_URL: "file:///etc/passwd" }, "HTTP_GENERATOR_URL: must be an http"],
    [{ HTTP_GENERATOR_HEADERS: "{nope" }, "HTTP_GENERATOR_HEADERS: must be a JSON object"],
    [{ HTTP_GENERATOR_HEADERS: '["a"]' }, "HTTP_GENERATOR_HEADERS"],
    [{ JOB_TIMEOUT_MS: "300000" }, "JOB_TIMEOUT_MS: must be shorter than the lease"],
  ])("refuses %o with a message naming the variable", (env, message) => {
    expect(() => loadWorkerConfig(env)).toThrow(WorkerConfigError);
    expect(() => loadWorkerConfig(env)).toThrow(message);
  });

  it("lists every bad variable at once", () => {
    expect(() => loadWorkerConfig({ WORKER_BATCH_SIZE: "-1", WORKER_LEASE_SECONDS: "x" })).toThrow(
      /WORKER_BATCH_SIZE[\s\S]*WORKER_LEASE_SECONDS/,
    );
  });
});
