import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { npmRun } from "../helpers/npm";
import { eventually } from "../helpers/start-server";
import { insertDemoJobs } from "../helpers/worker";

/** `npm run worker -- --once`, as an operator or the CI would type it. */
let t: TestDatabase;

/** `npm run worker -- <args>`. */
const npmRunWorker = (args: string[], env: Record<string, string>) =>
  npmRun(["worker", "--", ...args], env);

beforeAll(async () => {
  t = await freshDatabase();
});

describe("npm run worker -- --once", () => {
  it("drains the pending jobs, prints the counts and exits 0", async () => {
    await insertDemoJobs(t.raw, 120);
    await catalogue(t.db, "not-installed");
    await submitJob(t.db, submitter, { generator: "not-installed", input: {} });
    const run = await npmRunWorker(["--once"], {
      DATABASE_URL: t.url,
      WORKER_BATCH_SIZE: "50",
      WORKER_CONCURRENCY: "4",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("claimed 121, completed 120, failed 1, swept 0");
    const log = JSON.parse(run.stdout.split("\n").find((l) => l.startsWith("{")) ?? "{}");
    expect(log).toMatchObject({ event: "worker.invocation", claimed: 121, batchSize: 50 });
    const { rows } = await t.raw.query(
      "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status ORDER BY status",
    );
    expect(rows).toEqual([
      { status: "COMPLETED", n: 120 },
      { status: "FAILED", n: 1 },
    ]);
  });

  it("refuses a bad configuration before touching the database, naming the variable", async () => {
    const run = await npmRunWorker(["--once"], {
      DATABASE_URL: t.url,
      WORKER_CONCURRENCY: "0",
      HTTP_GENERATOR_HEADERS: "not json",
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("WORKER_CONCURRENCY: must be at least 1");
    expect(run.stderr).toContain("HTTP_GENERATOR_HEADERS");
  });
});

describe("npm run worker", () => {
  it("runs a job as soon as it is submitted (LISTEN regent_job_created), though it ticks hourly", async () => {
    const child = spawn("npm", ["run", "--silent", "worker"], {
      env: { ...process.env, DATABASE_URL: t.url, WORKER_INTERVAL_MS: "3600000" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const exited = new Promise((resolve) => child.on("close", resolve));
    try {
      await eventually(
        async () => (/and whenever jobs are created/.test(output) ? true : undefined),
        "the worker to start",
      );
      // Its first invocation runs at start; the next tick is an hour away.
      await eventually(listening, "the worker to listen");
      const job = await submitJob(t.db, submitter, { generator: "demo", input: { text: "now" } });
      await eventually(async () => {
        const { rows } = await t.raw.query("SELECT status FROM regeneration_jobs WHERE id = $1", [
          job.id,
        ]);
        return rows[0]?.status === "COMPLETED" ? true : undefined;
      }, "the job to complete");
    } finally {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
      await exited;
    }
  });
});

async function listening(): Promise<true | undefined> {
  const { rows } = await t.raw.query(
    `SELECT 1 FROM pg_stat_activity
     WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
  );
  return rows.length > 0 ? true : undefined;
}
