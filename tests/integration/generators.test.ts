/**
 * The generator catalog and the brake, on real PostgreSQL: what the workers publish, what
 * POST /api/jobs refuses with nothing written, the pause and resume an admin pulls (audited,
 * never changing a job), and the claim that holds a paused generator's jobs PENDING — through
 * the API, the worker, and raw SQL as the application role.
 */
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { publishGenerators } from "../../db/catalog";
import { loadConfig } from "../../functions/config/api";
import {
  builtInCatalog,
  createRegistry,
  demoGenerator,
  type Generator,
} from "../../functions/execution/generators";
import { DEFAULT_LEASE_SECONDS, runWorkerInvocation } from "../../functions/execution/invocation";
import { createServer } from "../../functions/server";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { type AppRoleMember, appRoleMember } from "../helpers/app-role";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failJob } from "../helpers/fixtures";
import { insertDemoJobs } from "../helpers/worker";

let t: TestDatabase;
let api: ApiApp;
let tokens: Tokens;
let member: AppRoleMember;

beforeAll(async () => {
  t = await freshDatabase();
  api = testApp(t.db);
  tokens = await createTokens(t.db);
  member = await appRoleMember(t);
});

async function count(table: string, where = "true"): Promise<number> {
  const { rows } = await t.raw.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`);
  return rows[0].n;
}

/** Rows of every table a submission could write, to show that a refusal wrote none. */
async function writes(): Promise<number[]> {
  return Promise.all(
    ["regeneration_jobs", "audit_events", "idempotency_keys"].map((table) => count(table)),
  );
}

const pause = (name: string, reasonText: string, token = tokens.admin) =>
  call(api, "POST", `/api/admin/generators/${name}/pause`, { token, body: { reasonText } });
const resume = (name: string, reasonText: string, token = tokens.admin) =>
  call(api, "POST", `/api/admin/generators/${name}/resume`, { token, body: { reasonText } });

describe("the catalog", () => {
  it("holds the built-in generators, published at migrate time with their JSON Schemas, audited once", async () => {
    const list = await call(api, "GET", "/api/admin/generators", { token: tokens.viewer });
    expect(list.status).toBe(200);
    const byName = new Map(list.body.items.map((g: { name: string }) => [g.name, g]));
    expect(byName.get("demo")).toMatchObject({
      name: "demo",
      version: "demo@1",
      paused: false,
      pausedAt: null,
      pausedBy: null,
      pauseReason: null,
      inputSchema: { type: "object", required: ["text"] },
    });
    expect(byName.get("http")).toMatchObject({ version: "http@1", paused: false });
    // The template database was migrated once; this file's copy carries its events.
    expect(
      await count("audit_events", "type = 'GENERATOR_VERSION_PUBLISHED' AND subject_id = 'demo'"),
    ).toBe(1);
  });

  it("writes nothing when what is published is current already", async () => {
    const before = await count("audit_events");
    expect(await publishGenerators(t.db, builtInCatalog(), "system:test")).toEqual([]);
    expect(await count("audit_events")).toBe(before);
  });

  it("records a new version once, makes it current, and audits a rollback to an older one", async () => {
    await catalogue(t.db, "versioned");
    const v2 = { name: "versioned", version: "versioned@2", inputSchema: { type: "object" } };
    expect(await publishGenerators(t.db, [v2], "system:deploy")).toEqual([
      { name: "versioned", version: "versioned@2" },
    ]);
    expect(await publishGenerators(t.db, [v2], "system:deploy")).toEqual([]);
    const rolledBack = { name: "versioned", version: "versioned@test", inputSchema: {} };
    expect(await publishGenerators(t.db, [rolledBack], "system:deploy")).toEqual([]);
    const { rows } = await t.raw.query(
      `SELECT type, actor, data FROM audit_events WHERE subject_type = 'generator'
         AND subject_id = 'versioned' ORDER BY id`,
    );
    expect(rows.map((r) => [r.type, r.data.version, r.data.previousVersion ?? null])).toEqual([
      ["GENERATOR_VERSION_PUBLISHED", "versioned@test", null],
      ["GENERATOR_VERSION_PUBLISHED", "versioned@2", "versioned@test"],
      ["GENERATOR_VERSION_CURRENT", "versioned@test", "versioned@2"],
    ]);
    const detail = await call(api, "GET", "/api/admin/generators/versioned", {
      token: tokens.viewer,
    });
    expect(detail.status).toBe(200);
    expect(detail.body.generator.version).toBe("versioned@test");
    expect(detail.body.generator.versions.map((v: { version: string }) => v.version)).toEqual([
      "versioned@2",
      "versioned@test",
    ]);
    expect(detail.body.generator.versions[0]).toMatchObject({
      inputSchema: { type: "object" },
      publishedBy: "system:deploy",
      schemaSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("refuses a version published again with another schema, whole, naming what to do", async () => {
    const before = await Promise.all([count("generator_versions"), count("audit_events")]);
    const changed = { name: "demo", version: "demo@1", inputSchema: { type: "string" } };
    const fresh = { name: "brand-new", version: "brand-new@1", inputSchema: {} };
    await expect(publishGenerators(t.db, [fresh, changed], "system:test")).rejects.toThrow(
      /demo was published before as version demo@1 with another input schema: give the changed generator a new version/,
    );
    expect(await Promise.all([count("generator_versions"), count("audit_events")])).toEqual(before);
  });

  it("answers 404 GENERATOR_NOT_FOUND for a name it does not hold", async () => {
    for (const name of ["nothing-here", "Not-A-Name", "x".repeat(100)]) {
      const response = await call(api, "GET", `/api/admin/generators/${name}`, {
        token: tokens.viewer,
      });
      expect(response.status, name).toBe(404);
      expect(response.body.error.code).toBe("GENERATOR_NOT_FOUND");
    }
  });
});

describe("POST /api/jobs and the catalog", () => {
  const submit = (body: unknown, headers: Record<string, string> = {}) =>
    call(api, "POST", "/api/jobs", { token: tokens.submitter, body, headers });

  it("refuses a generator the catalog does not know: 400 UNKNOWN_GENERATOR, nothing written", async () => {
    const before = await writes();
    const response = await submit(
      { generator: "made-up", input: { text: "x" } },
      { "idempotency-key": "unknown-1" },
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      code: "UNKNOWN_GENERATOR",
      details: { generator: "made-up" },
    });
    expect(response.body.error.message).toContain("GET /api/admin/generators");
    expect(await writes()).toEqual(before);
  });

  it("refuses an input the current schema refuses: 400 VALIDATION_FAILED naming the path, nothing written", async () => {
    const before = await writes();
    const response = await submit({ generator: "demo", input: { text: 5, failAttempts: -1 } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("VALIDATION_FAILED");
    expect(response.body.error.details).toMatchObject({
      field: "input",
      generator: "demo",
      version: "demo@1",
    });
    expect(response.body.error.details.issues).toEqual([
      {
        path: ["input", "text"],
        code: "type",
        message: 'Instance type "number" is invalid. Expected "string".',
      },
      { path: ["input", "failAttempts"], code: "minimum", message: "-1 is less than 0." },
    ]);
    expect(response.body.error.message).toContain("input.text");
    const missing = await submit({ generator: "demo", input: ["not", "an", "object"] });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.issues[0].path).toEqual(["input"]);
    expect(await writes()).toEqual(before);
  });

  it("accepts what the schema accepts, and an input the cached schema refused once a release accepts it", async () => {
    const ok = await submit({ generator: "demo", input: { text: "fine", extra: true } });
    expect(ok.status).toBe(201);
    // A release relaxes the schema: the server's cached copy would refuse; the database says
    // which one is current, and the submission is taken.
    await publishGenerators(
      t.db,
      [{ name: "demo", version: "demo@relaxed", inputSchema: { type: "object" } }],
      "system:test",
    );
    try {
      const relaxed = await submit({ generator: "demo", input: { text: 5 } });
      expect(relaxed.status).toBe(201);
    } finally {
      await publishGenerators(t.db, builtInCatalog(), "system:test");
    }
    const strictAgain = await submit({ generator: "demo", input: { text: 5 } });
    expect(strictAgain.status).toBe(400);
  });

  it("keeps /metrics the same size whatever names 1,000 submissions make up", async () => {
    // The oldest pending job's age grows meanwhile: its value is left out, its line kept.
    const scrape = async () =>
      (await call<string>(api, "GET", "/metrics", { token: tokens.viewer })).body.replace(
        /^(regent_oldest_pending_job_age_seconds) .*$/m,
        "$1",
      );
    const before = await scrape();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, k) =>
          submit({ generator: `made-up-${i + k}`, input: { text: "x" } }),
        ),
      );
      for (const r of batch) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 400: 1000 });
    const after = await scrape();
    expect(after.length).toBe(before.length);
    expect(after).not.toContain("made-up");
  });

  it("refuses a raw SQL submission that names no current schema, and an INSERT of an uncatalogued generator", async () => {
    const p = (generator: string, schemaSha256: string | null) =>
      JSON.stringify({
        ctx: { actor: "raw" },
        generator,
        input: { text: "x" },
        checkedAgainst: schemaSha256 ? { [generator]: schemaSha256 } : {},
      });
    await expect(
      member.raw.query("SELECT regent_submit_job($1::jsonb)", [p("made-up", null)]),
    ).rejects.toThrow(/UNKNOWN_GENERATOR/);
    await expect(
      member.raw.query("SELECT regent_submit_job($1::jsonb)", [p("demo", "0".repeat(64))]),
    ).rejects.toThrow(/GENERATOR_SCHEMA_CHANGED/);
    await expect(
      member.raw.query(
        `INSERT INTO regeneration_jobs (id, generator, input, created_by)
         VALUES ('rawjob1', 'made-up', '{}', 'raw')`,
      ),
    ).rejects.toThrow(/no generator named made-up is in the catalog/);
  });
});

describe("the catalog against the application role", () => {
  it("is read, never written, except through the functions that audit", async () => {
    for (const statement of [
      "UPDATE generators SET paused_at = NULL, paused_by = NULL, pause_reason = NULL",
      "UPDATE generators SET current_version = 'demo@1'",
      "INSERT INTO generator_versions (generator, version, input_schema, schema_sha256, published_by) VALUES ('demo', 'demo@9', '{}', 'x', 'me')",
      "DELETE FROM generators",
      "DELETE FROM generator_versions",
    ]) {
      await expect(member.raw.query(statement), statement).rejects.toThrow(/permission denied/);
    }
    await expect(t.raw.query("DELETE FROM generator_versions")).rejects.toThrow(/insert-only/);
    await expect(
      t.raw.query("UPDATE generator_versions SET input_schema = 'true'"),
    ).rejects.toThrow(/insert-only/);
    await expect(t.raw.query("DELETE FROM generators")).rejects.toThrow(/never deleted/);
    expect(
      (await member.raw.query("SELECT count(*)::int AS n FROM generators")).rows[0].n,
    ).toBeGreaterThan(1);
  });
});

describe("pause and resume", () => {
  it("pauses with a reason (200 {generator}), audited with the actor; twice is 409 GENERATOR_ALREADY_PAUSED", async () => {
    await catalogue(t.db, "brake");
    const paused = await pause("brake", "  upstream is down  ");
    expect(paused.status).toBe(200);
    expect(paused.body.generator).toMatchObject({
      name: "brake",
      version: "brake@test",
      paused: true,
      pausedBy: expect.stringMatching(/^token:/),
      pauseReason: "upstream is down",
    });
    const before = await writes();
    const again = await pause("brake", "again");
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "GENERATOR_ALREADY_PAUSED",
      details: { generator: "brake", pausedBy: paused.body.generator.pausedBy },
    });
    expect(await writes()).toEqual(before);

    const resumed = await resume("brake", "upstream is back");
    expect(resumed.status).toBe(200);
    expect(resumed.body.generator).toMatchObject({
      paused: false,
      pausedAt: null,
      pauseReason: null,
    });
    const notPaused = await resume("brake", "once more");
    expect(notPaused.status).toBe(409);
    expect(notPaused.body.error.code).toBe("GENERATOR_NOT_PAUSED");

    const { rows } = await t.raw.query(
      `SELECT type, actor, subject_type, data FROM audit_events
       WHERE subject_id = 'brake' AND type IN ('GENERATOR_PAUSED', 'GENERATOR_RESUMED') ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        type: "GENERATOR_PAUSED",
        actor: paused.body.generator.pausedBy,
        subject_type: "generator",
        data: { reasonText: "upstream is down", version: "brake@test" },
      },
      {
        type: "GENERATOR_RESUMED",
        actor: paused.body.generator.pausedBy,
        subject_type: "generator",
        data: {
          reasonText: "upstream is back",
          version: "brake@test",
          pausedAt: paused.body.generator.pausedAt,
          pausedBy: paused.body.generator.pausedBy,
          pauseReason: "upstream is down",
        },
      },
    ]);
  });

  it("is for admins, with a reason, for a generator of the catalog", async () => {
    const viewer = await pause("demo", "not mine to pull", tokens.viewer);
    expect(viewer.status).toBe(403);
    const blank = await pause("demo", "   ");
    expect(blank.status).toBe(400);
    expect(blank.body.error.code).toBe("VALIDATION_FAILED");
    const unknown = await pause("nothing-here", "why not");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("GENERATOR_NOT_FOUND");
    expect(await count("generators", "paused_at IS NOT NULL")).toBe(0);
    // Through raw SQL too: the function refuses a blank reason itself.
    await expect(
      member.raw.query("SELECT regent_pause_generator($1::jsonb)", [
        JSON.stringify({ ctx: { actor: "raw" }, name: "demo", reasonText: " " }),
      ]),
    ).rejects.toThrow(/VALIDATION_FAILED/);
  });

  it("wakes the claimer on resume, by NOTIFY and through the API's wake-up", async () => {
    await catalogue(t.db, "wakes");
    let woken = 0;
    const server = createServer({
      db: t.db,
      config: loadConfig({}),
      wakeClaimer: () => {
        woken++;
      },
    });
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    const notified: string[] = [];
    listener.on("notification", (n) => notified.push(n.channel));
    await listener.query("LISTEN regent_job_created");
    try {
      const body = { reasonText: "maintenance" };
      const paused = await call(server, "POST", "/api/admin/generators/wakes/pause", {
        token: tokens.admin,
        body,
      });
      expect(paused.status).toBe(200);
      expect(woken).toBe(0);
      const resumed = await call(server, "POST", "/api/admin/generators/wakes/resume", {
        token: tokens.admin,
        body,
      });
      expect(resumed.status).toBe(200);
      expect(woken).toBe(1);
      await listener.query("SELECT 1");
      expect(notified).toEqual(["regent_job_created"]);
    } finally {
      await listener.end();
    }
  });
});

describe("a paused generator's jobs", () => {
  /** Runs counted per job id: each must run exactly once. */
  const runs = new Map<string, number>();
  const held: Generator<{ n: number }> = {
    name: "held",
    version: "held@1",
    inputSchema: z.object({ n: z.number() }),
    run: (input, ctx) => {
      runs.set(ctx.job.id, (runs.get(ctx.job.id) ?? 0) + 1);
      return { n: input.n };
    },
  };
  const registry = createRegistry([demoGenerator, held]);
  const invoke = () =>
    runWorkerInvocation(t.db, {
      budgetMs: 20_000,
      concurrency: 8,
      batchSize: 100,
      generators: registry,
      log: () => {},
    });
  let heldIds: string[] = [];

  beforeAll(async () => {
    await publishGenerators(
      t.db,
      [{ name: "held", version: "held@1", inputSchema: z.toJSONSchema(held.inputSchema) }],
      "system:test",
    );
    expect((await pause("held", "the held service is down")).status).toBe(200);
    const { rows } = await t.raw.query<{ id: string }>(
      `WITH made AS (
         INSERT INTO regeneration_jobs (id, generator, input, created_by, created_at)
         SELECT 'held' || lpad(g::text, 4, '0'), 'held', jsonb_build_object('n', g), 'token:bulk',
                now() - interval '1 hour' + g * interval '1 millisecond'
         FROM generate_series(1, 500) g RETURNING id
       ), audited AS (
         INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
         SELECT 'JOB_CREATED', 'token:bulk', 'job', id, '{"generator":"held"}' FROM made
       )
       SELECT id FROM made ORDER BY id`,
    );
    heldIds = rows.map((r) => r.id);
  });

  it("stay PENDING through 3 invocations while another generator's jobs complete, then all complete once after resume", async () => {
    const statuses = async () => {
      const { rows } = await t.raw.query(
        "SELECT status, count(*)::int AS n FROM regeneration_jobs WHERE generator = 'held' GROUP BY status",
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    };
    for (let round = 1; round <= 3; round++) {
      const demoIds = await insertDemoJobs(t.raw, 50);
      const result = await invoke();
      expect(result.claimed).toBeGreaterThanOrEqual(50);
      expect(await statuses()).toEqual({ PENDING: 500 });
      const { rows } = await t.raw.query(
        "SELECT count(*)::int AS n FROM regeneration_jobs WHERE id = ANY ($1) AND status = 'COMPLETED'",
        [demoIds],
      );
      expect(rows[0].n, `round ${round}`).toBe(50);
    }
    expect(runs.size).toBe(0);
    expect(await count("audit_events", "type = 'JOB_CLAIMED' AND subject_id LIKE 'held%'")).toBe(0);

    expect((await resume("held", "the held service is back")).status).toBe(200);
    await invoke();
    expect(await statuses()).toEqual({ COMPLETED: 500 });
    expect(runs.size).toBe(500);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const { rows: outputs } = await t.raw.query(
      `SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS jobs FROM regeneration_outputs
       WHERE job_id = ANY ($1)`,
      [heldIds],
    );
    expect(outputs[0]).toEqual({ n: 500, jobs: 500 });
  });

  it("cannot be claimed by raw SQL as the application role, through the claim function or around it", async () => {
    expect((await pause("held", "again, for the raw claim")).status).toBe(200);
    const [waiting] = await insertHeld(1);
    const claim = JSON.stringify({
      workerId: "raw",
      actor: "worker:raw",
      batchSize: 1000,
      leaseSeconds: DEFAULT_LEASE_SECONDS,
    });
    const { rows } = await member.raw.query(
      "SELECT id, generator FROM regent_claim_jobs($1::jsonb)",
      [claim],
    );
    expect(rows.filter((r) => r.generator === "held")).toEqual([]);
    await member.raw.query("BEGIN");
    try {
      await expect(
        member.raw.query(
          `UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'raw', claimed_at = now(),
             lease_expires_at = now() + interval '1 minute' WHERE id = $1`,
          [waiting],
        ),
      ).rejects.toThrow(/GENERATOR_PAUSED/);
    } finally {
      await member.raw.query("ROLLBACK");
    }
    expect(
      (await t.raw.query("SELECT status FROM regeneration_jobs WHERE id = $1", [waiting])).rows[0]
        .status,
    ).toBe("PENDING");
    expect((await resume("held", "done with the raw claim")).status).toBe(200);
  });

  it("leaves the lease sweep alone: a claim of its job that lapsed is failed LEASE_EXPIRED as ever", async () => {
    const [job] = await insertHeld(1);
    await t.raw.query(
      `BEGIN;
       UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'gone', claimed_at = now(),
         lease_expires_at = now() - interval '1 second' WHERE id = '${job}';
       INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('JOB_CLAIMED', 'worker:gone', 'job', '${job}');
       COMMIT;`,
    );
    expect((await pause("held", "swept all the same")).status).toBe(200);
    const result = await invoke();
    expect(result.swept).toBe(1);
    const { rows } = await t.raw.query(
      "SELECT status, error FROM regeneration_jobs WHERE id = $1",
      [job],
    );
    expect(rows[0]).toMatchObject({ status: "FAILED", error: { code: "LEASE_EXPIRED" } });
    expect((await resume("held", "sweep seen")).status).toBe(200);
  });

  it("may be retried while paused: the retry job waits too", async () => {
    await catalogue(t.db, "retried-while-paused");
    const job = await failJob(
      t.db,
      (
        await call(api, "POST", "/api/jobs", {
          token: tokens.submitter,
          body: { generator: "retried-while-paused", input: { any: "thing" } },
        })
      ).body.job.id,
    );
    expect((await pause("retried-while-paused", "hold retries")).status).toBe(200);
    const intent = await call(api, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      body: { sourceJobId: job.id, reasonCode: "TRANSIENT_FAILURE", reasonText: "later" },
    });
    expect(intent.status).toBe(201);
    const executed = await call(
      api,
      "POST",
      `/api/admin/retry-intents/${intent.body.intent.id}/execute`,
      {
        token: tokens.admin,
      },
    );
    expect(executed.status).toBe(201);
    await invoke();
    expect(
      (
        await t.raw.query("SELECT status FROM regeneration_jobs WHERE id = $1", [
          executed.body.job.id,
        ])
      ).rows[0].status,
    ).toBe("PENDING");
  });

  async function insertHeld(n: number): Promise<string[]> {
    const prefix = `h${Math.random().toString(36).slice(2, 8)}`;
    const { rows } = await t.raw.query<{ id: string }>(
      `WITH made AS (
         INSERT INTO regeneration_jobs (id, generator, input, created_by)
         SELECT $2 || g, 'held', jsonb_build_object('n', g), 'token:bulk' FROM generate_series(1, $1::int) g
         RETURNING id
       ), audited AS (
         INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
         SELECT 'JOB_CREATED', 'token:bulk', 'job', id, '{}' FROM made
       )
       SELECT id FROM made`,
      [n, prefix],
    );
    return rows.map((r) => r.id);
  }
});
