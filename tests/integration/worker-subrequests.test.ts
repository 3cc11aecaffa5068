import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRegistry,
  demoGenerator,
  type Generator,
} from "../../functions/execution/generators";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { nodeLimits, workerLimits } from "../../functions/execution/subrequests";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { insertDemoJobs, logSink } from "../helpers/worker";

/**
 * An invocation under a subrequest budget, against PostgreSQL: it claims only the jobs whose
 * generator calls the budget still pays for, charges each job its own generator's count, and
 * leaves the rest PENDING for the next invocation. `twice` stands for a generator that makes
 * two requests a run, and counts its runs.
 */
let t: TestDatabase;
let runs = 0;
const twice: Generator = {
  name: "twice",
  version: "twice@1",
  inputSchema: z.unknown(),
  subrequests: 2,
  run: () => {
    runs += 1;
    return { ok: true };
  },
};
const generators = createRegistry([demoGenerator, twice]);

beforeAll(async () => {
  t = await freshDatabase();
  await catalogue(t.db, "twice", "slow");
});

async function pendingOf(generator: string): Promise<number> {
  const { rows } = await t.raw.query(
    "SELECT count(*)::int AS n FROM regeneration_jobs WHERE generator = $1 AND status = 'PENDING'",
    [generator],
  );
  return rows[0].n;
}

describe("an invocation with a subrequest budget", () => {
  it("claims only what its budget can run, and the next invocation takes the rest", async () => {
    for (let n = 0; n < 25; n++) await submitJob(t.db, submitter, { generator: "twice", input: n });
    const sink = logSink();
    const options = {
      budgetMs: 10_000,
      concurrency: 4,
      batchSize: 500,
      generators,
      limits: nodeLimits(21),
      log: sink.log,
    };
    const claimed: number[] = [];
    for (let invocation = 0; invocation < 3; invocation++) {
      const result = await runWorkerInvocation(t.db, options);
      expect(result.subrequests).toBeLessThanOrEqual(21);
      expect(result.failed).toBe(0);
      claimed.push(result.claimed);
    }
    expect(claimed).toEqual([10, 10, 5]);
    expect(runs).toBe(25);
    expect(await pendingOf("twice")).toBe(0);
    expect(JSON.parse(sink.lines[0] ?? "{}")).toMatchObject({ claimed: 10, subrequests: 20 });
  });

  it("charges a job only its own generator's calls: free jobs never exhaust it", async () => {
    await insertDemoJobs(t.raw, 60);
    const result = await runWorkerInvocation(t.db, {
      budgetMs: 10_000,
      concurrency: 4,
      batchSize: 500,
      generators,
      limits: nodeLimits(21),
      log: () => {},
    });
    // Claims of 10 (the budget's share for the costliest generator), until none is left.
    expect(result).toMatchObject({ claimed: 60, completed: 60, subrequests: 0 });
    expect(result.passes).toBeGreaterThanOrEqual(6);
    expect(await pendingOf("demo")).toBe(0);
  });

  it("runs at most five generators at once under a Worker's connections", async () => {
    let open = 0;
    let mostOpen = 0;
    const slow: Generator = {
      name: "slow",
      version: "slow@1",
      inputSchema: z.unknown(),
      subrequests: 1,
      run: async () => {
        open += 1;
        mostOpen = Math.max(mostOpen, open);
        await new Promise((resolve) => setTimeout(resolve, 5));
        open -= 1;
        return { ok: true };
      },
    };
    for (let n = 0; n < 30; n++) await submitJob(t.db, submitter, { generator: "slow", input: n });
    const sink = logSink();
    const result = await runWorkerInvocation(t.db, {
      budgetMs: 10_000,
      concurrency: 16,
      batchSize: 500,
      generators: createRegistry([slow]),
      limits: workerLimits(undefined),
      log: sink.log,
    });
    expect(result.claimed).toBe(30);
    expect(mostOpen).toBeLessThanOrEqual(5);
    expect(JSON.parse(sink.lines[0] ?? "{}")).toMatchObject({ concurrency: 5, subrequests: 31 });
  });
});
