import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { JobError } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRegistry,
  demoGenerator,
  type Generator,
} from "../../functions/execution/generators";
import { type InvocationResult, runWorkerInvocation } from "../../functions/execution/invocation";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { eventTypes, outputsOf, rawJob } from "../helpers/worker";

/**
 * PostgreSQL refuses one output of a batch that the worker took for JSON: a string holding a
 * lone UTF-16 surrogate. JavaScript strings may hold one (an `http` generator service can
 * answer `"\ud800"`, and JSON.parse keeps it), JSON.stringify writes it as the escape
 * `\ud800`, and jsonb refuses that escape ("Unicode low surrogate must follow a high
 * surrogate"). The whole finishing statement fails; the finisher must split the batch, record
 * the others, and fail that one job with OUTPUT_REJECTED.
 */
let t: TestDatabase;
let result: InvocationResult;
let poison: string;
let others: string[];

const loneSurrogate: Generator = {
  name: "lone-surrogate",
  version: "lone-surrogate@1",
  inputSchema: z.unknown(),
  run: () => ({ text: "broken \ud800 text" }),
};

beforeAll(async () => {
  t = await freshDatabase();
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const generator = i === 5 ? loneSurrogate.name : "demo";
    await catalogue(t.db, generator);
    ids.push((await submitJob(t.db, submitter, { generator, input: { text: `job ${i}` } })).id);
  }
  poison = ids[5] as string;
  others = ids.filter((id) => id !== poison);
  // One claim takes all twelve, and all twelve outcomes share the first finishing statement.
  result = await runWorkerInvocation(t.db, {
    budgetMs: 30_000,
    concurrency: 12,
    batchSize: 12,
    generators: createRegistry([demoGenerator, loneSurrogate]),
    log: () => {},
  });
});

describe("an output the database refuses", () => {
  it("is what PostgreSQL itself refuses, not something the worker checks", async () => {
    await expect(t.raw.query(`SELECT '{"text":"\\ud800"}'::jsonb`)).rejects.toThrow(
      /invalid input syntax for type json/,
    );
  });

  it("fails its job with OUTPUT_REJECTED, audited, and stores no output", async () => {
    const job = await rawJob(t.raw, poison);
    expect(job.status).toBe("FAILED");
    const error = job.error as JobError;
    expect(error.code).toBe("OUTPUT_REJECTED");
    expect(error.message).toMatch(
      /^the database refused the output: invalid input syntax for type json \(SQLSTATE 22P02\)$/,
    );
    // PostgreSQL's reason, not the statement with the output in its parameters.
    expect(error.message).not.toMatch(/Failed query|params/);
    expect(await outputsOf(t.raw, poison)).toEqual([]);
    expect(await eventTypes(t.raw, poison)).toEqual(["JOB_CREATED", "JOB_CLAIMED", "JOB_FAILED"]);
    const { rows } = await t.raw.query(
      "SELECT data FROM audit_events WHERE subject_id = $1 AND type = 'JOB_FAILED'",
      [poison],
    );
    expect(rows).toEqual([{ data: error }]);
  });

  it("completes every other job of the same batch exactly once", async () => {
    const claims = await t.raw.query<{ n: number }>(
      `SELECT count(DISTINCT tx_id)::int AS n FROM audit_events WHERE type = 'JOB_CLAIMED'`,
    );
    expect(claims.rows).toEqual([{ n: 1 }]);
    for (const id of others) {
      expect((await rawJob(t.raw, id)).status).toBe("COMPLETED");
      const outputs = await outputsOf(t.raw, id);
      expect(outputs).toHaveLength(1);
      expect(outputs[0]?.generatorVersion).toBe("demo@1");
      expect(await eventTypes(t.raw, id)).toEqual(["JOB_CREATED", "JOB_CLAIMED", "JOB_COMPLETED"]);
    }
  });

  it("counts it as failed, not refused, and nothing is left RUNNING", async () => {
    expect(result).toMatchObject({ claimed: 12, completed: 11, failed: 1, refused: 0 });
    const { rows } = await t.raw.query(
      "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status ORDER BY status",
    );
    expect(rows).toEqual([
      { status: "COMPLETED", n: 11 },
      { status: "FAILED", n: 1 },
    ]);
  });
});
