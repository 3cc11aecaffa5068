/**
 * The least-privilege role of db/migrations/0003_app_role.sql, on a real PostgreSQL server: a
 * LOGIN member of regent_app made for this run (random name and password), connected as the
 * deployed Workers are, runs the whole retry flow, through the domain and through the server,
 * and a worker invocation; it is refused every statement that could remove data, switch a
 * guard off or change the schema. The migration also runs on PGlite, `npm start`'s database.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect, type Database } from "../../db/client";
import { MIGRATIONS_FOLDER, migrate } from "../../db/migrate";
import { rowsOf } from "../../db/types";
import { ensureBootstrapAdminToken } from "../../functions/domain/api-tokens";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { call, createTokens, testApp } from "../helpers/api";
import { APP_ROLE, type AppRoleMember, appRoleMember, asServerAdmin } from "../helpers/app-role";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, secondAdmin, submitter } from "../helpers/fixtures";
import { eventTypes, outputsOf, rawJob } from "../helpers/worker";

/**
 * What the application does to the tables that hold history, and nothing more: whatever later
 * migrations grant on other tables, these are never deleted from. Tokens, seals and sessions
 * it reads only: it writes them through the functions that keep their rule (db/functions/).
 * Audit events it inserts column by column (below): their id, time and transaction are the
 * database's.
 */
const HISTORY_PRIVILEGES: Record<string, string[]> = {
  regeneration_jobs: ["INSERT", "SELECT", "UPDATE"],
  retry_intents: ["INSERT", "SELECT", "UPDATE"],
  api_tokens: ["SELECT"],
  regeneration_outputs: ["INSERT", "SELECT"],
  audit_events: ["SELECT"],
  retry_batches: ["INSERT", "SELECT"],
  audit_seals: ["SELECT"],
  admin_sessions: ["SELECT"],
  regent_policy: ["SELECT"],
};

/** Refused on every table: emptying one, and what only a table's designer needs. */
const NEVER = ["TRUNCATE", "REFERENCES", "TRIGGER"];

async function grantsOf(query: (text: string) => Promise<unknown>) {
  const rows = rowsOf<{ table_name: string; privileges: string[] }>(
    await query(
      `SELECT table_name, array_agg(privilege_type::text ORDER BY privilege_type) AS privileges
       FROM information_schema.role_table_grants
       WHERE grantee = '${APP_ROLE}' AND table_schema = 'public' GROUP BY table_name`,
    ),
  );
  return Object.fromEntries(rows.map((r) => [r.table_name, r.privileges]));
}

const suffix = () => randomBytes(6).toString("hex");
const asAdmin = asServerAdmin;

let t: TestDatabase;
let member: AppRoleMember;
let memberUrl: string;
let app: Database;
let raw: pg.Client;

beforeAll(async () => {
  t = await freshDatabase();
  member = await appRoleMember(t);
  memberUrl = member.url;
  raw = member.raw;
  app = await connect({ url: memberUrl, max: 6 });
});

afterAll(async () => {
  await app?.close();
});

const work = () =>
  runWorkerInvocation(app.db, { budgetMs: 10_000, concurrency: 4, batchSize: 10, log: () => {} });

/** The SQLSTATE a statement run as the member fails with, or "" when it succeeds. */
async function refusal(statement: string): Promise<string> {
  try {
    await raw.query(statement);
    return "";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe("the connection", () => {
  it("is the member's, with regent_app's rights and no attribute of its own", async () => {
    const { rows } = await raw.query(
      `SELECT current_user AS who, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
              r.rolreplication, pg_has_role(current_user, $1, 'USAGE') AS member
       FROM pg_roles r WHERE r.rolname = current_user`,
      [APP_ROLE],
    );
    expect(rows[0]).toEqual({
      who: member.name,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolbypassrls: false,
      rolreplication: false,
      member: true,
    });
  });
});

describe("regent_app", () => {
  it("is a group role that cannot log in and has no special attribute", async () => {
    const { rows } = await t.raw.query(
      `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication
       FROM pg_roles WHERE rolname = $1`,
      [APP_ROLE],
    );
    expect(rows).toEqual([
      {
        rolcanlogin: false,
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
        rolreplication: false,
      },
    ]);
  });

  it("owns nothing: tables, functions, types and schemas stay the migrating role's", async () => {
    const { rows } = await t.raw.query(
      `SELECT 'relation' AS kind, relname::text AS name FROM pg_class
         WHERE pg_get_userbyid(relowner) IN ($1, $2)
       UNION ALL SELECT 'function', proname::text FROM pg_proc
         WHERE pg_get_userbyid(proowner) IN ($1, $2)
       UNION ALL SELECT 'type', typname::text FROM pg_type
         WHERE pg_get_userbyid(typowner) IN ($1, $2)
       UNION ALL SELECT 'schema', nspname::text FROM pg_namespace
         WHERE pg_get_userbyid(nspowner) IN ($1, $2)`,
      [APP_ROLE, member.name],
    );
    expect(rows).toEqual([]);
  });

  it("holds exactly the application's privileges on the tables that hold history, DELETE never", async () => {
    const granted = await grantsOf((text) => t.raw.query(text));
    for (const [table, privileges] of Object.entries(HISTORY_PRIVILEGES)) {
      expect(granted[table], table).toEqual(privileges);
    }
    expect(granted.idempotency_keys).toEqual(expect.arrayContaining(["INSERT", "SELECT"]));
    const { rows } = await t.raw.query(
      `SELECT array_agg(column_name::text ORDER BY column_name) AS columns
       FROM information_schema.column_privileges
       WHERE grantee = $1 AND table_name = 'audit_events' AND privilege_type = 'INSERT'`,
      [APP_ROLE],
    );
    expect(rows[0].columns).toEqual([
      "actor",
      "data",
      "ip",
      "request_id",
      "subject_id",
      "subject_type",
      "type",
      "user_agent",
    ]);
  });

  it("may read every table but the database's secrets, use every sequence, and never truncate, reference or trigger (later migrations grant their own)", async () => {
    const { rows: tables } = await t.raw.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    expect(tables.length).toBeGreaterThan(Object.keys(HISTORY_PRIVILEGES).length);
    for (const { name } of tables) {
      const { rows } = await t.raw.query(
        `SELECT has_table_privilege($1, $2, 'SELECT') AS reads,
                ${NEVER.map((p) => `has_table_privilege($1, $2, '${p}') AS "${p}"`).join(", ")}`,
        [APP_ROLE, `public.${name}`],
      );
      expect(
        rows[0],
        `${name}: the migration that creates a table grants regent_app its rights`,
      ).toEqual({
        // The preview key is read by regent_preview_token alone.
        reads: name !== "regent_secrets",
        ...Object.fromEntries(NEVER.map((p) => [p, false])),
      });
    }
    const { rows: sequences } = await t.raw.query<{ name: string; usable: boolean }>(
      `SELECT sequencename AS name, has_sequence_privilege($1, 'public.' || sequencename, 'USAGE') AS usable
       FROM pg_sequences WHERE schemaname = 'public'`,
      [APP_ROLE],
    );
    expect(sequences.length).toBeGreaterThan(0);
    // A seal's id comes with the seal, which only regent_seal_audit writes; the migrator's
    // record of the core is the owner's.
    const ownersAlone = ["audit_seals_id_seq", "regent_core_applied_id_seq"];
    for (const sequence of sequences) {
      expect(sequence.usable, sequence.name).toBe(!ownersAlone.includes(sequence.name));
    }
  });

  it("may call every function but the triggers' and the owner's, units of work included, which PUBLIC may not", async () => {
    // The units of work run with their caller's rights, so regent_app needs EXECUTE on each
    // function one of them calls; nobody else is granted any. The policy is the owner's to write.
    const { rows } = await t.raw.query<{ name: string; app: boolean; acl: string }>(
      `SELECT p.oid::regprocedure::text AS name,
              has_function_privilege($1, p.oid, 'EXECUTE') AS app,
              coalesce(p.proacl::text, '') AS acl
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND p.prokind = 'f'
         AND p.prorettype <> 'trigger'::regtype
       ORDER BY 1`,
      [APP_ROLE],
    );
    const names = rows.map((r) => r.name.replace(/\(.*/, ""));
    for (const unit of [
      "regent_submit_job",
      "regent_create_retry_intent",
      "regent_execute_retry_intent",
      "regent_reject_retry_intent",
      "regent_create_retry_batch",
      "regent_execute_retry_batch",
      "regent_reject_retry_batch",
      "regent_start_admin_session",
      "regent_end_admin_session",
    ]) {
      expect(names).toContain(unit);
    }
    for (const row of rows) {
      // The policy is the owner's to set; counting a history into the tallies is the
      // migration's, once (the application would only wait on its locks).
      const ownersAlone = /^regent_(set_policy|fill_tallies)\(/.test(row.name);
      expect(row.app, `${row.name}: regent_app may execute it`).toBe(!ownersAlone);
      // An ACL entry for PUBLIC has an empty grantee: "=X/owner".
      expect(row.acl, `${row.name}: PUBLIC may not execute it`).not.toMatch(/(^|[{,])=X/);
    }
  });

  it("may not create anything in the schema", async () => {
    const { rows } = await t.raw.query(
      "SELECT has_schema_privilege($1, 'public', 'USAGE') AS usage, has_schema_privilege($1, 'public', 'CREATE') AS creates",
      [APP_ROLE],
    );
    expect(rows[0]).toEqual({ usage: true, creates: false });
  });
});

describe("as a member of regent_app", () => {
  it("runs the retry flow through the domain: submit, the worker fails it, an intent, its execution, the worker completes the retry", async () => {
    const original = await submitJob(app.db, submitter, {
      generator: "demo",
      input: { text: "least privilege", failAttempts: 1 },
    });
    expect((await work()).failed).toBeGreaterThanOrEqual(1);
    expect(await rawJob(t.raw, original.id)).toMatchObject({ status: "FAILED" });

    const intent = await createRetryIntent(app.db, admin, {
      sourceJobId: original.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "fails once on purpose",
    });
    const { job: retry } = await createRetryJobFromIntent(app.db, secondAdmin, intent.id);
    expect((await work()).completed).toBeGreaterThanOrEqual(1);

    expect(await rawJob(t.raw, retry.id)).toMatchObject({
      status: "COMPLETED",
      retry_of_job_id: original.id,
      retry_intent_id: intent.id,
    });
    expect((await outputsOf(t.raw, retry.id)).map((o) => o.content)).toEqual([
      { text: "LEAST PRIVILEGE" },
    ]);
    expect(await eventTypes(t.raw, retry.id)).toEqual([
      "JOB_CREATED",
      "JOB_CLAIMED",
      "JOB_COMPLETED",
    ]);
  });

  it("serves the retry flow through createServer, with the Worker's bootstrap token and idempotency keys", async () => {
    const bootstrap = `bootstrap-${randomBytes(16).toString("hex")}`;
    await ensureBootstrapAdminToken(app.db, bootstrap);
    await ensureBootstrapAdminToken(app.db, bootstrap);
    const tokens = await createTokens(app.db);
    const server = testApp(app.db);

    const submitted = await call(server, "POST", "/api/jobs", {
      token: tokens.submitter,
      headers: { "idempotency-key": `key-${suffix()}` },
      body: { generator: "demo", input: { text: "over http", failAttempts: 1 } },
    });
    expect(submitted.status).toBe(201);
    const jobId: string = submitted.body.job.id;
    await work();

    const created = await call(server, "POST", "/api/admin/retry-intents", {
      token: bootstrap,
      body: { sourceJobId: jobId, reasonCode: "TRANSIENT_FAILURE", reasonText: "once more" },
    });
    expect(created.status).toBe(201);
    const executed = await call(
      server,
      "POST",
      `/api/admin/retry-intents/${created.body.intent.id}/execute`,
      { token: tokens.secondAdmin },
    );
    expect(executed.status).toBe(201);
    await work();

    const lineage = await call(server, "GET", `/api/admin/jobs/${jobId}`, {
      token: tokens.viewer,
    });
    expect(lineage.status).toBe(200);
    expect(lineage.body.lineage.map((l: { job: { status: string } }) => l.job.status)).toEqual([
      "FAILED",
      "COMPLETED",
    ]);
    const audit = await call(server, "GET", `/api/admin/audit?subjectId=${jobId}`, {
      token: tokens.viewer,
    });
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((e: { type: string }) => e.type)).toContain("REGEN_JOB_RETRIED");
  });

  it("runs a worker invocation that sweeps a lapsed lease", async () => {
    const job = await submitJob(app.db, submitter, { generator: "demo", input: { text: "x" } });
    // A claim that lapsed, as a worker that died would leave it (written by the owner).
    await t.raw.query("BEGIN");
    await t.raw.query(
      `UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'worker:gone',
         claimed_at = now() - interval '1 hour', lease_expires_at = now() - interval '1 minute'
       WHERE id = $1`,
      [job.id],
    );
    await t.raw.query(
      `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('JOB_CLAIMED', 'worker:gone', 'job', $1)`,
      [job.id],
    );
    await t.raw.query("COMMIT");
    expect((await work()).swept).toBeGreaterThanOrEqual(1);
    expect(await rawJob(t.raw, job.id)).toMatchObject({ status: "FAILED" });
  });

  it("is refused what would remove data, switch a guard off or change the schema", async () => {
    const counts = async () =>
      (
        await t.raw.query(
          `SELECT (SELECT count(*) FROM regeneration_jobs) AS jobs,
                  (SELECT count(*) FROM regeneration_outputs) AS outputs,
                  (SELECT count(*) FROM audit_events) AS events`,
        )
      ).rows[0];
    const before = await counts();
    const statements = [
      "ALTER TABLE regeneration_jobs DISABLE TRIGGER regeneration_jobs_update_guard",
      "ALTER TABLE audit_events DISABLE TRIGGER ALL",
      "DROP TRIGGER audit_events_insert_only ON audit_events",
      "DELETE FROM regeneration_outputs",
      "DELETE FROM regeneration_jobs WHERE status = 'FAILED'",
      "TRUNCATE audit_events",
      "TRUNCATE regeneration_jobs CASCADE",
      "CREATE TABLE scratch (id int)",
      "ALTER TABLE regeneration_jobs ADD COLUMN note text",
      "DROP TABLE idempotency_keys",
      "CREATE OR REPLACE FUNCTION regent_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
      "SET session_replication_role = replica",
    ];
    const refusals: Record<string, string> = {};
    for (const statement of statements) refusals[statement] = await refusal(statement);
    expect(refusals).toEqual(Object.fromEntries(statements.map((s) => [s, "42501"])));
    expect(await counts()).toEqual(before);
  });
});

describe("the migration", () => {
  it("creates the role even when another database of the server is creating it at the same moment", async () => {
    // 0003's own statement, for a role of this test only (regent_app already exists here).
    const statement = readFileSync(`${MIGRATIONS_FOLDER}/0003_app_role.sql`, "utf8")
      .split("--> statement-breakpoint")
      .find((part) => part.includes("CREATE ROLE"));
    const role = `regent_race_${suffix()}`;
    const racing = statement?.replaceAll(APP_ROLE, role) ?? "";
    expect(racing).toContain(`CREATE ROLE ${role} NOLOGIN`);

    // This file's database and the server's own: two databases, one set of roles.
    const first = new pg.Client({ connectionString: t.url });
    const second = new pg.Client({ connectionString: inject("pgAdminUrl") });
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query("BEGIN");
      await first.query(racing);
      await second.query("BEGIN");
      // Waits on the first one's uncommitted role, then collides with it once it commits.
      const behind = second.query(racing);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await first.query("COMMIT");
      await behind;
      await second.query("COMMIT");
      const { rows } = await t.raw.query(
        "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1",
        [role],
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await Promise.all([first.end(), second.end()]);
      await asAdmin((client) => client.query(`DROP ROLE IF EXISTS "${role}"`));
    }
  });

  it("runs on PGlite, the database of npm start, and again without change", async () => {
    const embedded = await connect({ dataDir: "memory://" });
    try {
      await migrate(embedded);
      await migrate(embedded);
      const roles = rowsOf<{ rolcanlogin: boolean }>(
        await embedded.db.execute(
          sql`SELECT rolcanlogin FROM pg_roles WHERE rolname = ${APP_ROLE}`,
        ),
      );
      expect(roles).toEqual([{ rolcanlogin: false }]);
      const granted = await grantsOf((text) => embedded.db.execute(sql.raw(text)));
      for (const [table, privileges] of Object.entries(HISTORY_PRIVILEGES)) {
        expect(granted[table], table).toEqual(privileges);
      }
      expect(granted.idempotency_keys).toEqual(expect.arrayContaining(["INSERT", "SELECT"]));
    } finally {
      await embedded.close();
    }
  });
});
