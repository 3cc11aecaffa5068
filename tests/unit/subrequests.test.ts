import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadWorkerConfig } from "../../functions/config/worker";
import {
  builtInGenerators,
  createRegistry,
  demoGenerator,
  type Generator,
} from "../../functions/execution/generators";
import { invocationOptionsFrom } from "../../functions/execution/invocation";
import {
  effectiveConcurrency,
  jobsPerInvocation,
  nodeLimits,
  SubrequestBudget,
  subrequestsOf,
  subrequestsPerJob,
  UNLIMITED,
  workerLimits,
} from "../../functions/execution/subrequests";
import { readStageConfig } from "../../infra/config";

/**
 * The arithmetic that keeps a claimer invocation within Cloudflare's limits, the setting that
 * tunes it, and the deploy check's warnings about settings that ask for more.
 */
const counting = (subrequests?: number): Generator => ({
  name: "counting",
  version: "counting@1",
  inputSchema: z.unknown(),
  ...(subrequests === undefined ? {} : { subrequests }),
  run: () => ({}),
});

describe("an invocation's subrequests", () => {
  it("on Workers: the Free plan's 50 unless set, six connections, one of them the database's", () => {
    expect(workerLimits(undefined)).toEqual({
      subrequests: 50,
      connections: 6,
      databaseSockets: 1,
    });
    expect(workerLimits(10_000).subrequests).toBe(10_000);
  });

  it("keeps back a database socket opened again and the alert digest, after the socket opened", () => {
    const withAlerts = new SubrequestBudget(workerLimits(50), { alerts: true });
    expect(withAlerts.taken).toBe(1);
    expect(withAlerts.claimable(1, 500)).toBe(47);
    expect(new SubrequestBudget(workerLimits(50), { alerts: false }).claimable(1, 500)).toBe(48);
    expect(jobsPerInvocation(workerLimits(50), 1, true)).toBe(47);
    expect(jobsPerInvocation(workerLimits(10_000), 1, true)).toBe(9997);
  });

  it("claims only what is left after the jobs claimed before, never past the batch size", () => {
    const budget = new SubrequestBudget(workerLimits(50), { alerts: true });
    expect(budget.claimable(1, 20)).toBe(20);
    budget.take(20);
    expect(budget.claimable(1, 20)).toBe(20);
    budget.take(20);
    expect(budget.claimable(1, 20)).toBe(7);
    budget.take(7);
    expect(budget.claimable(1, 20)).toBe(0);
    expect(budget.taken).toBe(48);
  });

  it("divides by the costliest generator, and a registry of free generators claims whole batches", () => {
    const budget = new SubrequestBudget(workerLimits(50), { alerts: true });
    expect(budget.claimable(3, 500)).toBe(15);
    budget.take(47);
    expect(budget.claimable(0, 500)).toBe(500);
  });

  it("is unlimited on Node unless set", () => {
    expect(nodeLimits(undefined)).toBe(UNLIMITED);
    const unlimited = new SubrequestBudget(UNLIMITED, { alerts: true });
    unlimited.take(1_000_000);
    expect(unlimited.claimable(1, 500)).toBe(500);
    const set = new SubrequestBudget(nodeLimits(20), { alerts: false });
    expect(set.taken).toBe(0);
    expect(set.claimable(1, 500)).toBe(20);
  });

  it("runs at most five generators at once on Workers, any number on Node", () => {
    expect(effectiveConcurrency(16, workerLimits(undefined))).toBe(5);
    expect(effectiveConcurrency(3, workerLimits(undefined))).toBe(3);
    expect(effectiveConcurrency(16, UNLIMITED)).toBe(16);
    expect(effectiveConcurrency(0, UNLIMITED)).toBe(1);
  });

  it("counts what each generator declares: http one call, demo none, an undeclared one one", () => {
    const builtIn = builtInGenerators({ timeoutMs: 1 });
    expect(subrequestsPerJob(builtIn)).toBe(1);
    expect(subrequestsOf(builtIn, "http")).toBe(1);
    expect(subrequestsOf(builtIn, "demo")).toBe(0);
    // A job whose generator this worker lacks fails without a call.
    expect(subrequestsOf(builtIn, "nope")).toBe(0);
    expect(subrequestsPerJob(createRegistry([demoGenerator]))).toBe(0);
    expect(subrequestsPerJob(createRegistry([demoGenerator, counting()]))).toBe(1);
    expect(subrequestsPerJob(createRegistry([counting(4)]))).toBe(4);
  });

  it("refuses a generator whose count of subrequests is negative or fractional", () => {
    expect(() => createRegistry([counting(-1)])).toThrow(/subrequests must be a whole number/);
    expect(() => createRegistry([counting(1.5)])).toThrow(/subrequests must be a whole number/);
  });
});

describe("WORKER_SUBREQUEST_BUDGET", () => {
  it("is unset unless given, and read as a whole number", () => {
    expect(loadWorkerConfig({}).subrequestBudget).toBeUndefined();
    expect(loadWorkerConfig({ WORKER_SUBREQUEST_BUDGET: " " }).subrequestBudget).toBeUndefined();
    expect(loadWorkerConfig({ WORKER_SUBREQUEST_BUDGET: " 10000 " }).subrequestBudget).toBe(10_000);
  });

  it.each([
    ["lots", "WORKER_SUBREQUEST_BUDGET: must be a whole number"],
    ["2.5", "WORKER_SUBREQUEST_BUDGET: must be a whole number"],
    ["9", "WORKER_SUBREQUEST_BUDGET: must be at least 10"],
    [
      "10000001",
      "WORKER_SUBREQUEST_BUDGET: must be at most 10000000: Cloudflare allows at most 10 million",
    ],
  ])("refuses %s with a message naming the variable", (value, message) => {
    expect(() => loadWorkerConfig({ WORKER_SUBREQUEST_BUDGET: value })).toThrow(message);
    expect(() => readStageConfig("staging", { WORKER_SUBREQUEST_BUDGET: value })).toThrow(message);
  });

  it("limits a Node worker only when set", () => {
    expect(invocationOptionsFrom(loadWorkerConfig({})).limits).toBe(UNLIMITED);
    expect(
      invocationOptionsFrom(loadWorkerConfig({ WORKER_SUBREQUEST_BUDGET: "200" })).limits,
    ).toEqual({ ...UNLIMITED, subrequests: 200 });
  });
});

describe("the deploy check's warnings about the Claimer's limits", () => {
  const claimerWarnings = (env: Record<string, string>) =>
    readStageConfig("staging", env).warnings.filter((w) => /^WORKER_/.test(w));

  it("warns that the defaults claim at most 47 jobs and run 5 at once on the Free plan", () => {
    const warnings = claimerWarnings({});
    expect(warnings).toEqual([
      expect.stringMatching(
        /^WORKER_BATCH_SIZE: 500 jobs need up to 500 generator calls, plus 3 subrequests .* than the 50 of WORKER_SUBREQUEST_BUDGET \(unset: the Workers Free plan's limit\): each Claimer invocation claims at most 47 jobs/,
      ),
      expect.stringMatching(/^WORKER_CONCURRENCY: 16 is more .* so it runs 5 generators at once$/),
    ]);
  });

  it("warns of a batch that one more subrequest would not fit, and not of one that fits", () => {
    expect(
      claimerWarnings({
        WORKER_SUBREQUEST_BUDGET: "1000",
        WORKER_BATCH_SIZE: "998",
        WORKER_CONCURRENCY: "5",
      }),
    ).toEqual([expect.stringContaining("claims at most 997 jobs")]);
    expect(
      claimerWarnings({
        WORKER_SUBREQUEST_BUDGET: "1000",
        WORKER_BATCH_SIZE: "997",
        WORKER_CONCURRENCY: "5",
      }),
    ).toEqual([]);
  });

  it("says nothing of settings within the Paid plan's limits, and deploys the budget", () => {
    const config = readStageConfig("staging", {
      WORKER_SUBREQUEST_BUDGET: "10000",
      WORKER_CONCURRENCY: "4",
    });
    expect(config.warnings).toEqual([]);
    expect(config.claimer).toMatchObject({ WORKER_SUBREQUEST_BUDGET: "10000" });
  });
});
