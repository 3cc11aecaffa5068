/**
 * The database's promises against someone who holds the application's own credential: a
 * LOGIN member of regent_app with raw SQL, TEMP tables, session settings and hand-written rows.
 * Each attack here committed before the core pinned its search_path, took its policy from the
 * database and wrote tokens, seals and event ids only through its own functions; each must be
 * refused now, whoever asks.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { verifyAudit } from "../../functions/domain/audit-seals";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { type AppRoleMember, appRoleMember, asServerAdmin } from "../helpers/app-role";
import {
  attempt,
  DEFAULT_POLICY,
  freshDatabase,
  setPolicy,
  type TestDatabase,
} from "../helpers/db";
import { admin, failedChain, failedJob, secondAdmin } from "../helpers/fixtures";

let t: TestDatabase;
let member: AppRoleMember;

beforeAll(async () => {
  t = await freshDatabase();
  member = await appRoleMember(t);
});

const PERMISSION_DENIED = "42501";

const event = (type: string, subjectType: string, subjectId: string) =>
  `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('${type}', 'attacker', '${subjectType}', '${subjectId}')`;

const count = async (sql: string) => Number((await t.raw.query(sql)).rows[0].n);

/**
 * Runs `statements` as the member in one transaction, after making a temporary `table` that
 * shadows Regent's (search_path = pg_temp, public), on a database that lets the member create
 * TEMP tables, as one that never revoked TEMP from PUBLIC would (a restored dump, a provider's
 * default): the functions must hold without the revocation. Returns what stopped it.
 */
async function shadowing(table: string, ...statements: string[]) {
  const grant = (verb: "GRANT" | "REVOKE", word: "TO" | "FROM") =>
    asServerAdmin((c) =>
      c.query(`${verb} TEMPORARY ON DATABASE "${t.name}" ${word} "${member.name}"`),
    );
  await grant("GRANT", "TO");
  try {
    return await attempt(
      member.raw,
      "SET LOCAL search_path = pg_temp, public",
      `CREATE TEMP TABLE ${table} (LIKE public.${table} INCLUDING DEFAULTS INCLUDING IDENTITY) ON COMMIT DROP`,
      ...statements,
    );
  } finally {
    await grant("REVOKE", "FROM");
  }
}

describe("shadowing a table with a TEMP table", () => {
  it("is refused: regent_app creates no TEMP table in Regent's database", async () => {
    const error = await attempt(member.raw, "CREATE TEMP TABLE probe (id bigint) ON COMMIT DROP");
    expect(error?.code).toBe(PERMISSION_DENIED);
  });

  it("cannot commit a job whose event went into a shadow audit_events", async () => {
    const id = `shadowjob${Date.now()}`;
    const error = await shadowing(
      "audit_events",
      event("JOB_CREATED", "job", id),
      `INSERT INTO public.regeneration_jobs (id, generator, input, created_by) VALUES ('${id}', 'demo', '{"text":"x"}', 'attacker')`,
    );
    expect(error?.code).toBe("RG002");
    expect(await count(`SELECT count(*) AS n FROM regeneration_jobs WHERE id = '${id}'`)).toBe(0);
  });

  it("cannot pass the retry budget, or change a retry's input, through a shadow regeneration_jobs", async () => {
    const deep = await failedChain(t.db, 3);
    const budget = await shadowing(
      "regeneration_jobs",
      `INSERT INTO regeneration_jobs (id, generator, input, status, created_by) VALUES ('${deep.id}', 'demo', '{}', 'FAILED', 'attacker')`,
      `INSERT INTO public.retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('shadowintent1', '${deep.id}', 'TRANSIENT_FAILURE', 'past the budget', 'attacker')`,
      event("RETRY_INTENT_CREATED", "retry_intent", "shadowintent1"),
    );
    expect(budget?.code).toBe("RG001");
    expect(budget?.message).toMatch(/retry budget exhausted/);

    const source = await failedJob(t.db, { text: "as it was" });
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: source.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "once more",
    });
    const input = await shadowing(
      "regeneration_jobs",
      `INSERT INTO regeneration_jobs (id, generator, input, status, created_by) VALUES ('${source.id}', 'demo', '{"text":"changed"}', 'FAILED', 'attacker')`,
      `UPDATE public.retry_intents SET status = 'CONSUMED', consumed_by = 'attacker', consumed_at = now() WHERE id = '${intent.id}'`,
      event("RETRY_INTENT_CONSUMED", "retry_intent", intent.id),
      `INSERT INTO public.regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by) VALUES ('shadowretry1', 'demo', '{"text":"changed"}', '${source.id}', '${intent.id}', 'attacker')`,
      event("JOB_CREATED", "job", "shadowretry1"),
      event("REGEN_JOB_RETRIED", "job", source.id),
    );
    expect(input?.code).toBe("RG001");
    expect(input?.message).toMatch(/same generator and input/);
  });

  it("cannot forge an output onto a FAILED job", async () => {
    const failed = await failedJob(t.db);
    const error = await shadowing(
      "regeneration_jobs",
      `INSERT INTO regeneration_jobs (id, generator, input, status, created_by) VALUES ('${failed.id}', 'demo', '{}', 'COMPLETED', 'attacker')`,
      `INSERT INTO public.regeneration_outputs (id, job_id, content, content_sha256, generator_version) VALUES ('forged1', '${failed.id}', '{"text":"forged"}', 'x', '1')`,
    );
    expect(error?.code).toBe("RG001");
    expect(
      await count(`SELECT count(*) AS n FROM regeneration_outputs WHERE job_id = '${failed.id}'`),
    ).toBe(0);
  });

  it("finds no Regent function without a pinned search_path", async () => {
    const { rows } = await t.raw.query(
      `SELECT p.proname FROM pg_proc p
       WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'regent\\_%'
         AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\\_path=%')`,
    );
    expect(rows).toEqual([]);
  });
});

describe("the policy", () => {
  it("is the database's: a session setting does not raise the budget", async () => {
    const deep = await failedChain(t.db, 3);
    const error = await attempt(
      member.raw,
      "SET LOCAL regent.retry_budget = '1000'",
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('settingintent1', '${deep.id}', 'TRANSIENT_FAILURE', 'the setting says so', 'attacker')`,
      event("RETRY_INTENT_CREATED", "retry_intent", "settingintent1"),
    );
    expect(error?.code).toBe("RG001");
    expect(error?.message).toMatch(/retry budget exhausted: .* the budget is 3/);
  });

  it("is not written by regent_app", async () => {
    expect((await attempt(member.raw, "UPDATE regent_policy SET retry_budget = 100"))?.code).toBe(
      PERMISSION_DENIED,
    );
    expect(
      (await attempt(member.raw, `SELECT regent_set_policy('{"retryBudget":100}')`))?.code,
    ).toBe(PERMISSION_DENIED);
  });

  it("bounds an intent's lifetime, whatever the unit is asked or a row says", async () => {
    const unit = await attempt(
      member.raw,
      `SELECT regent_idempotent('create_retry_intent', jsonb_build_object(
         'ctx', '{"actor":"attacker"}'::jsonb, 'sourceJobId', '${(await failedJob(t.db)).id}',
         'reasonCode', 'OTHER', 'reasonText', 'forever', 'expiresInHours', 100000000))`,
    );
    expect(unit?.code).toBe("RG003");
    expect(unit?.message).toBe("VALIDATION_FAILED");
    for (const [id, approvedAt, expiresAt] of [
      ["lifetime1", "now()", "'infinity'"],
      ["lifetime2", "now()", "now() + interval '721 hours'"],
      ["lifetime3", "now() + interval '10 years'", "now() + interval '10 years 1 hour'"],
    ] as const) {
      const job = await failedJob(t.db);
      const error = await attempt(
        member.raw,
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, approved_at, expires_at)
         VALUES ('${id}', '${job.id}', 'OTHER', 'by hand', 'attacker', ${approvedAt}, ${expiresAt})`,
        event("RETRY_INTENT_CREATED", "retry_intent", id),
      );
      expect(error?.code, id).toBe("RG001");
    }
  });

  it("holds four-eyes for every server on the database, whatever a caller passes", async () => {
    await setPolicy(t, { requireDistinctExecutor: true });
    try {
      const job = await failedJob(t.db);
      const intent = await createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "four eyes",
      });
      const error = await attempt(
        member.raw,
        `SELECT regent_idempotent('execute_retry_intent', jsonb_build_object(
           'ctx', '{"actor":"${admin.actor}"}'::jsonb, 'intentId', '${intent.id}',
           'requireDistinctExecutor', false, 'policy', '{"requireDistinctExecutor":false}'::jsonb))`,
      );
      expect(error?.message).toBe("FOUR_EYES_REQUIRED");
      const { job: retry } = await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
      expect(retry.retryOfJobId).toBe(job.id);
    } finally {
      await setPolicy(t, DEFAULT_POLICY);
    }
  });
});

describe("seals and event ids", () => {
  it("are the database's: no hand-made seal, no chosen event id", async () => {
    const seal = await attempt(
      member.raw,
      `INSERT INTO audit_seals (from_event_id, to_event_id, event_count, event_ids, event_hashes,
         prev_digest, digest, next_watermark_id, next_xmax, sealed_by)
       VALUES (0, 0, 0, '{}', '', repeat('0', 64), repeat('0', 64), 0, '18446744073709551615', 'attacker')`,
    );
    expect(seal?.code).toBe(PERMISSION_DENIED);
    const id = await attempt(
      member.raw,
      `INSERT INTO audit_events (id, type, actor, subject_type, subject_id) OVERRIDING SYSTEM VALUE
       VALUES (9000000000000000000, 'JOB_CREATED', 'attacker', 'job', 'x')`,
    );
    expect(id?.code).toBe(PERMISSION_DENIED);
    const stamp = await attempt(
      member.raw,
      `INSERT INTO audit_events (type, actor, subject_type, subject_id, created_at)
       VALUES ('JOB_CREATED', 'attacker', 'job', 'x', now() - interval '1 year')`,
    );
    expect(stamp?.code).toBe(PERMISSION_DENIED);
  });

  it("still catch a superuser's edit after a seal forgery was tried", async () => {
    await submitJob(t.db, admin, { generator: "demo", input: { text: "sealed" } });
    const forged = await attempt(
      member.raw,
      `INSERT INTO audit_seals (from_event_id, to_event_id, event_count, event_ids, event_hashes,
         prev_digest, digest, next_watermark_id, next_xmax, sealed_by)
       SELECT to_event_id, to_event_id, 0, '{}', '', digest, digest, next_watermark_id,
              '18446744073709551615', 'attacker'
       FROM audit_seals ORDER BY id DESC LIMIT 1`,
    );
    expect(forged?.code).toBe(PERMISSION_DENIED);
    // The member seals the way the worker does, twice: the second covers the first's watermark.
    for (let i = 0; i < 2; i++)
      await member.raw.query("SELECT * FROM regent_seal_audit('worker:x')");
    const { rows } = await t.raw.query("SELECT max(to_event_id) AS last FROM audit_seals");
    const sealedEvent = Number(rows[0].last);
    expect(sealedEvent).toBeGreaterThan(0);
    await t.raw.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_insert_only");
    await t.raw.query(`UPDATE audit_events SET actor = 'someone else' WHERE id = ${sealedEvent}`);
    await t.raw.query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_insert_only");
    const verdict = await verifyAudit(t.db);
    expect(verdict).toMatchObject({ ok: false, eventId: sealedEvent, problem: "changed" });
  });
});

describe("tokens, sessions and refusal counts", () => {
  it("are not written by hand", async () => {
    const hash = "a".repeat(64);
    expect(
      (
        await attempt(
          member.raw,
          `INSERT INTO api_tokens (id, name, role, token_sha256) VALUES ('forgedtoken', 'x', 'admin', '${hash}')`,
        )
      )?.code,
    ).toBe(PERMISSION_DENIED);
    expect((await attempt(member.raw, "UPDATE api_tokens SET revoked_at = now()"))?.code).toBe(
      PERMISSION_DENIED,
    );
    expect((await attempt(member.raw, "UPDATE admin_sessions SET ended_at = now()"))?.code).toBe(
      PERMISSION_DENIED,
    );
    expect((await attempt(member.raw, "DELETE FROM auth_refusals"))?.code).toBe(PERMISSION_DENIED);
  });

  it("are written through their functions, each with its event in the same statement", async () => {
    const { rows } = await member.raw.query(
      `SELECT regent_create_api_token(jsonb_build_object('ctx', '{"actor":"cli:ops"}'::jsonb,
         'name', 'made by the app', 'role', 'viewer', 'tokenSha256', repeat('b', 64))) AS token`,
    );
    const token = rows[0].token as { id: string; token_sha256?: string };
    expect(token.token_sha256).toBeUndefined();
    const { rows: events } = await t.raw.query(
      "SELECT type, actor FROM audit_events WHERE subject_id = $1 ORDER BY id",
      [token.id],
    );
    expect(events).toEqual([{ type: "API_TOKEN_CREATED", actor: "cli:ops" }]);
    await member.raw.query(
      `SELECT regent_revoke_api_token(jsonb_build_object('ctx', '{"actor":"cli:ops"}'::jsonb, 'tokenId', $1::text))`,
      [token.id],
    );
    const { rows: after } = await t.raw.query(
      "SELECT type FROM audit_events WHERE subject_id = $1 ORDER BY id",
      [token.id],
    );
    expect(after.map((e) => e.type)).toEqual(["API_TOKEN_CREATED", "API_TOKEN_REVOKED"]);
  });

  it("prunes only counts past the retention", async () => {
    await t.raw.query(
      `INSERT INTO auth_refusals (hour, ip, reason) VALUES
         (date_trunc('hour', now()) - interval '31 days', '192.0.2.1', 'missing'),
         (date_trunc('hour', now()), '192.0.2.1', 'missing')`,
    );
    const { rows } = await member.raw.query("SELECT regent_prune_auth_refusals(1000000) AS n");
    expect(rows[0].n).toBe(1);
    expect(await count("SELECT count(*) AS n FROM auth_refusals")).toBe(1);
  });
});

describe("settings that would switch the guards off", () => {
  it("are refused to regent_app", async () => {
    const error = await attempt(member.raw, "SET LOCAL session_replication_role = replica");
    expect(error?.code).toBe(PERMISSION_DENIED);
  });
});
