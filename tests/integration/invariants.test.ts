import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { attempt, freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failedJob, submitter } from "../helpers/fixtures";

/**
 * The database refuses every forbidden change on its own, whatever client sends it.
 * Each statement is typed here as a human at psql would type it.
 */

let t: TestDatabase;
const ids = {} as Record<
  | "pending"
  | "running"
  | "completed"
  | "failed"
  | "failedWithPending"
  | "retried"
  | "retryJob"
  | "intentPending"
  | "intentConsumed"
  | "intentRejected"
  | "output"
  | "token",
  string
>;

const audit = (type: string, subjectId: string, subjectType = "job") =>
  `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('${type}', 'psql', '${subjectType}', '${subjectId}')`;

beforeAll(async () => {
  t = await freshDatabase();
  const { db, raw } = t;
  ids.pending = (await submitJob(db, submitter, { generator: "demo", input: { text: "p" } })).id;
  ids.running = (await submitJob(db, submitter, { generator: "demo", input: { text: "r" } })).id;
  await raw.query("BEGIN");
  await raw.query(
    `UPDATE regeneration_jobs SET status='RUNNING', claimed_by='w1', claimed_at=now(), lease_expires_at=now() + interval '1 minute' WHERE id='${ids.running}'`,
  );
  await raw.query(audit("JOB_CLAIMED", ids.running));
  await raw.query("COMMIT");
  const completed = await submitJob(db, submitter, { generator: "demo", input: { text: "c" } });
  ids.completed = (await completeJob(db, completed.id)).id;
  ids.output = `out_${completed.id}`;
  ids.failed = (await failedJob(db)).id;
  ids.failedWithPending = (await failedJob(db)).id;
  ids.intentPending = (
    await createRetryIntent(db, admin, {
      sourceJobId: ids.failedWithPending,
      reasonCode: "OTHER",
      reasonText: "try again",
    })
  ).id;
  ids.retried = (await failedJob(db)).id;
  const consumed = await createRetryIntent(db, admin, {
    sourceJobId: ids.retried,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "network blip",
  });
  const executed = await createRetryJobFromIntent(db, admin, consumed.id);
  ids.intentConsumed = consumed.id;
  ids.retryJob = executed.job.id;
  const toReject = await failedJob(db);
  ids.intentRejected = (
    await rejectRetryIntent(
      db,
      admin,
      (
        await createRetryIntent(db, admin, {
          sourceJobId: toReject.id,
          reasonCode: "BAD_INPUT",
          reasonText: "x",
        })
      ).id,
      "no",
    )
  ).id;
  await raw.query(
    `INSERT INTO api_tokens (id, name, role, token_sha256) VALUES ('tok1', 'ci', 'viewer', 'deadbeef')`,
  );
  ids.token = "tok1";
});

describe("forbidden changes are refused by the database", () => {
  const cases: [string, () => string[], RegExp][] = [
    [
      "UPDATE an output",
      () => [`UPDATE regeneration_outputs SET content='{}' WHERE id='${ids.output}'`],
      /insert-only/,
    ],
    [
      "UPDATE outputs matching no row",
      () => ["UPDATE regeneration_outputs SET content='{}' WHERE false"],
      /insert-only/,
    ],
    [
      "DELETE an output",
      () => [`DELETE FROM regeneration_outputs WHERE id='${ids.output}'`],
      /insert-only/,
    ],
    ["TRUNCATE outputs", () => ["TRUNCATE regeneration_outputs"], /insert-only/],
    ["UPDATE an audit event", () => ["UPDATE audit_events SET actor='mallory'"], /insert-only/],
    ["DELETE audit events", () => ["DELETE FROM audit_events"], /insert-only/],
    ["TRUNCATE audit events", () => ["TRUNCATE audit_events CASCADE"], /insert-only/],
    [
      "DELETE a job",
      () => [`DELETE FROM regeneration_jobs WHERE id='${ids.pending}'`],
      /never deleted/,
    ],
    ["TRUNCATE jobs", () => ["TRUNCATE regeneration_jobs CASCADE"], /never deleted|insert-only/],
    [
      "DELETE an intent",
      () => [`DELETE FROM retry_intents WHERE id='${ids.intentPending}'`],
      /never deleted/,
    ],
    ["TRUNCATE intents", () => ["TRUNCATE retry_intents CASCADE"], /never deleted|insert-only/],
    ["DELETE a token", () => [`DELETE FROM api_tokens WHERE id='${ids.token}'`], /never deleted/],
    [
      "change a job's id",
      () => [`UPDATE regeneration_jobs SET id='other' WHERE id='${ids.pending}'`],
      /identity/,
    ],
    [
      "change a job's generator",
      () => [`UPDATE regeneration_jobs SET generator='http' WHERE id='${ids.pending}'`],
      /identity/,
    ],
    [
      "change a job's input",
      () => [`UPDATE regeneration_jobs SET input='{"text":"evil"}' WHERE id='${ids.pending}'`],
      /identity/,
    ],
    [
      "change a job's created_by",
      () => [`UPDATE regeneration_jobs SET created_by='x' WHERE id='${ids.pending}'`],
      /identity/,
    ],
    [
      "change a job's created_at",
      () => [
        `UPDATE regeneration_jobs SET created_at=now() - interval '1 day' WHERE id='${ids.pending}'`,
      ],
      /identity/,
    ],
    [
      "rewrite a retry job's lineage",
      () => [
        `UPDATE regeneration_jobs SET retry_of_job_id='${ids.failed}' WHERE id='${ids.retryJob}'`,
      ],
      /identity/,
    ],
    [
      "drop a retry job's intent link",
      () => [
        `UPDATE regeneration_jobs SET retry_intent_id=NULL, retry_of_job_id=NULL WHERE id='${ids.retryJob}'`,
      ],
      /identity/,
    ],
    [
      "move RUNNING back to PENDING",
      () => [
        `UPDATE regeneration_jobs SET status='PENDING', claimed_by=NULL, claimed_at=NULL, lease_expires_at=NULL WHERE id='${ids.running}'`,
      ],
      /forward only/,
    ],
    [
      "move PENDING straight to COMPLETED",
      () => [
        `UPDATE regeneration_jobs SET status='COMPLETED', finished_at=now() WHERE id='${ids.pending}'`,
      ],
      /forward only/,
    ],
    [
      "reset a FAILED job to PENDING",
      () => [
        `UPDATE regeneration_jobs SET status='PENDING', finished_at=NULL, error=NULL WHERE id='${ids.failed}'`,
      ],
      /finished job never changes/,
    ],
    [
      "touch a FAILED job at all",
      () => [`UPDATE regeneration_jobs SET lease_expires_at=now() WHERE id='${ids.failed}'`],
      /finished job never changes/,
    ],
    [
      "turn a COMPLETED job FAILED",
      () => [
        `UPDATE regeneration_jobs SET status='FAILED', error='{"code":"X","message":"y"}' WHERE id='${ids.completed}'`,
      ],
      /finished job never changes/,
    ],
    [
      "take over a claim",
      () => [`UPDATE regeneration_jobs SET claimed_by='thief' WHERE id='${ids.running}'`],
      /claim is never taken over/,
    ],
    [
      "insert a job already COMPLETED",
      () => [
        `INSERT INTO regeneration_jobs (id, generator, input, created_by, status, finished_at) VALUES ('jx', 'demo', '{}', 'psql', 'COMPLETED', now())`,
        audit("JOB_CREATED", "jx"),
      ],
      /created PENDING/,
    ],
    [
      "insert a job without its audit event",
      () => [
        "INSERT INTO regeneration_jobs (id, generator, input, created_by) VALUES ('jy', 'demo', '{}', 'psql')",
      ],
      /audited/,
    ],
    [
      "insert a retry job without a consumed intent",
      () => [
        `INSERT INTO regeneration_jobs (id, generator, input, created_by, retry_of_job_id, retry_intent_id) VALUES ('jz', 'demo', '{"text":"hello"}', 'psql', '${ids.failedWithPending}', '${ids.intentPending}')`,
      ],
      /consumed retry intent/,
    ],
    [
      "insert a retry job of a job that did not fail",
      () => [
        `INSERT INTO regeneration_jobs (id, generator, input, created_by, retry_of_job_id, retry_intent_id) VALUES ('jw', 'demo', '{"text":"c"}', 'psql', '${ids.completed}', '${ids.intentConsumed}')`,
      ],
      /only a FAILED job is retried/,
    ],
    [
      "insert a job with half its lineage",
      () => [
        `INSERT INTO regeneration_jobs (id, generator, input, created_by, retry_of_job_id) VALUES ('jv', 'demo', '{}', 'psql', '${ids.failed}')`,
      ],
      /consumed retry intent|lineage_together/,
    ],
    [
      "retry a job a second time",
      () => [
        `UPDATE retry_intents SET status='CONSUMED', consumed_by='psql', consumed_at=now() WHERE id='${ids.intentPending}'`,
        `INSERT INTO regeneration_jobs (id, generator, input, created_by, retry_of_job_id, retry_intent_id) VALUES ('ju', 'demo', '{"text":"hello"}', 'psql', '${ids.retried}', '${ids.intentPending}')`,
      ],
      /consumed retry intent|retry_of_job_id_key/,
    ],
    [
      "complete a job without its output",
      () => [
        `UPDATE regeneration_jobs SET status='COMPLETED', finished_at=now() WHERE id='${ids.running}'`,
        audit("JOB_COMPLETED", ids.running),
      ],
      /has its output/,
    ],
    [
      "fail a job without an error",
      () => [
        `UPDATE regeneration_jobs SET status='FAILED', finished_at=now() WHERE id='${ids.running}'`,
        audit("JOB_FAILED", ids.running),
      ],
      /error_iff_failed/,
    ],
    [
      "claim a job without its audit event",
      () => [
        `UPDATE regeneration_jobs SET status='RUNNING', claimed_by='w', claimed_at=now(), lease_expires_at=now() WHERE id='${ids.pending}'`,
      ],
      /audited/,
    ],
    [
      "write an output for a PENDING job",
      () => [
        `INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version) VALUES ('o2', '${ids.pending}', '{}', 's', 'v')`,
      ],
      /being completed/,
    ],
    [
      "write an output for a RUNNING job that is not completed",
      () => [
        `INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version) VALUES ('o3', '${ids.running}', '{}', 's', 'v')`,
      ],
      /commits only with its job COMPLETED/,
    ],
    [
      "write a second output for a COMPLETED job",
      () => [
        `INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version) VALUES ('o4', '${ids.completed}', '{}', 's', 'v')`,
      ],
      /job_id_key/,
    ],
    [
      "change a PENDING intent's reason",
      () => [`UPDATE retry_intents SET reason_text='other' WHERE id='${ids.intentPending}'`],
      /PENDING retry intent changes only/,
    ],
    [
      "change a PENDING intent's approver while consuming it",
      () => [
        `UPDATE retry_intents SET status='CONSUMED', consumed_by='x', consumed_at=now(), approved_by='mallory' WHERE id='${ids.intentPending}'`,
      ],
      /request and approval never change/,
    ],
    [
      "reopen a CONSUMED intent",
      () => [
        `UPDATE retry_intents SET status='PENDING', consumed_by=NULL, consumed_at=NULL WHERE id='${ids.intentConsumed}'`,
      ],
      /CONSUMED retry intent never changes/,
    ],
    [
      "reject a CONSUMED intent",
      () => [
        `UPDATE retry_intents SET status='REJECTED', rejected_by='x', rejected_at=now(), rejection_text='t' WHERE id='${ids.intentConsumed}'`,
      ],
      /never changes/,
    ],
    [
      "consume a REJECTED intent",
      () => [
        `UPDATE retry_intents SET status='CONSUMED', consumed_by='x', consumed_at=now() WHERE id='${ids.intentRejected}'`,
      ],
      /REJECTED retry intent never changes/,
    ],
    [
      "consume an intent without creating its job",
      () => [
        `UPDATE retry_intents SET status='CONSUMED', consumed_by='x', consumed_at=now() WHERE id='${ids.intentPending}'`,
        audit("RETRY_INTENT_CONSUMED", ids.intentPending, "retry_intent"),
      ],
      /yields its job/,
    ],
    [
      "consume an intent without its audit event",
      () => [
        `UPDATE retry_intents SET status='REJECTED', rejected_by='x', rejected_at=now(), rejection_text='t' WHERE id='${ids.intentPending}'`,
      ],
      /audited/,
    ],
    [
      "insert an intent already CONSUMED",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, status, consumed_by, consumed_at) VALUES ('i1', '${ids.failed}', 'OTHER', 'r', 'psql', 'CONSUMED', 'x', now())`,
      ],
      /created PENDING/,
    ],
    [
      "insert an intent for a job that did not fail",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('i2', '${ids.completed}', 'OTHER', 'r', 'psql')`,
        audit("RETRY_INTENT_CREATED", "i2", "retry_intent"),
      ],
      /for a FAILED job/,
    ],
    [
      "insert an intent for a job already retried",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('i3', '${ids.retried}', 'OTHER', 'r', 'psql')`,
        audit("RETRY_INTENT_CREATED", "i3", "retry_intent"),
      ],
      /already retried/,
    ],
    [
      "insert a second PENDING intent for a job",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('i4', '${ids.failedWithPending}', 'OTHER', 'r', 'psql')`,
      ],
      /one_pending_per_job/,
    ],
    [
      "insert an intent with a blank reason",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('i5', '${ids.failed}', 'OTHER', '   ', 'psql')`,
      ],
      /reason_text_length/,
    ],
    [
      "insert an intent with a 2001-character reason",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('i6', '${ids.failed}', 'OTHER', repeat('x', 2001), 'psql')`,
      ],
      /reason_text_length/,
    ],
    [
      "insert an intent with an unknown reason code",
      () => [
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('i7', '${ids.failed}', 'WHIM', 'r', 'psql')`,
      ],
      /invalid input value for enum/,
    ],
    [
      "change a token's role",
      () => [`UPDATE api_tokens SET role='admin' WHERE id='${ids.token}'`],
      /api_tokens changes only by setting revoked_at, once/,
    ],
  ];

  it.each(cases)("%s", async (_name, statements, message) => {
    const error = await attempt(t.raw, ...statements());
    expect(error, "the statement should have been refused").toBeDefined();
    expect(error?.message).toMatch(message);
  });

  it("refuses to un-revoke a token", async () => {
    expect(
      await attempt(t.raw, `UPDATE api_tokens SET revoked_at=now() WHERE id='${ids.token}'`),
    ).toBeUndefined();
    const error = await attempt(
      t.raw,
      `UPDATE api_tokens SET revoked_at=NULL WHERE id='${ids.token}'`,
    );
    expect(error?.message).toMatch(/api_tokens changes only by setting revoked_at, once/);
  });

  it("raises its own SQLSTATE for a refused change and another for a missing audit event", async () => {
    expect((await attempt(t.raw, "DELETE FROM audit_events"))?.code).toBe("RG001");
    expect(
      (
        await attempt(
          t.raw,
          "INSERT INTO regeneration_jobs (id, generator, input, created_by) VALUES ('js', 'demo', '{}', 'x')",
        )
      )?.code,
    ).toBe("RG002");
  });

  it("stamps an audit event with the writer's own transaction, whatever the client sends", async () => {
    const error = await attempt(
      t.raw,
      "INSERT INTO regeneration_jobs (id, generator, input, created_by) VALUES ('jt', 'demo', '{}', 'x')",
      "INSERT INTO audit_events (type, actor, subject_type, subject_id, tx_id) VALUES ('JOB_CREATED', 'x', 'job', 'jt', '1')",
    );
    expect(error).toBeUndefined();
    const { rows } = await t.raw.query(
      "SELECT tx_id::text AS tx FROM audit_events WHERE subject_id = 'jt'",
    );
    expect(rows[0].tx).not.toBe("1");
  });
});

describe("allowed changes succeed", () => {
  it("a whole job life by hand: insert, claim, extend the lease, complete with an output", async () => {
    const id = "hand1";
    expect(
      await attempt(
        t.raw,
        `INSERT INTO regeneration_jobs (id, generator, input, created_by) VALUES ('${id}', 'demo', '{"text":"a"}', 'psql')`,
        audit("JOB_CREATED", id),
      ),
    ).toBeUndefined();
    expect(
      await attempt(
        t.raw,
        `UPDATE regeneration_jobs SET status='RUNNING', claimed_by='w', claimed_at=now(), lease_expires_at=now() + interval '30 seconds' WHERE id='${id}'`,
        audit("JOB_CLAIMED", id),
      ),
    ).toBeUndefined();
    expect(
      await attempt(
        t.raw,
        `UPDATE regeneration_jobs SET lease_expires_at=now() + interval '2 minutes' WHERE id='${id}'`,
      ),
    ).toBeUndefined();
    expect(
      await attempt(
        t.raw,
        `UPDATE regeneration_jobs SET status='COMPLETED', finished_at=now() WHERE id='${id}'`,
        `INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version) VALUES ('hand1out', '${id}', '{"text":"A"}', 's', 'v')`,
        audit("JOB_COMPLETED", id),
      ),
    ).toBeUndefined();
    const { rows } = await t.raw.query(`SELECT status FROM regeneration_jobs WHERE id='${id}'`);
    expect(rows[0].status).toBe("COMPLETED");
  });

  it("RUNNING → FAILED and PENDING → FAILED, each with its error and event", async () => {
    expect(
      await attempt(
        t.raw,
        `UPDATE regeneration_jobs SET status='FAILED', finished_at=now(), error='{"code":"LEASE_EXPIRED","message":"lease ran out"}' WHERE id='${ids.running}'`,
        audit("JOB_FAILED", ids.running),
      ),
    ).toBeUndefined();
    expect(
      await attempt(
        t.raw,
        `UPDATE regeneration_jobs SET status='FAILED', finished_at=now(), error='{"code":"UNKNOWN_GENERATOR","message":"no such generator"}' WHERE id='${ids.pending}'`,
        audit("JOB_FAILED", ids.pending),
      ),
    ).toBeUndefined();
  });

  it("an intent by hand: insert for a FAILED job, then reject it", async () => {
    const job = await failedJob(t.db);
    expect(
      await attempt(
        t.raw,
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('ih1', '${job.id}', 'INFRA_ERROR', 'disk full', 'psql')`,
        audit("RETRY_INTENT_CREATED", "ih1", "retry_intent"),
      ),
    ).toBeUndefined();
    expect(
      await attempt(
        t.raw,
        "UPDATE retry_intents SET status='REJECTED', rejected_by='psql', rejected_at=now(), rejection_text='not worth it' WHERE id='ih1'",
        audit("RETRY_INTENT_REJECTED", "ih1", "retry_intent"),
      ),
    ).toBeUndefined();
  });

  it("consuming an intent by hand together with its retry job", async () => {
    const job = await failedJob(t.db, { text: "by hand" });
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "again",
    });
    expect(
      await attempt(
        t.raw,
        `UPDATE retry_intents SET status='CONSUMED', consumed_by='psql', consumed_at=now() WHERE id='${intent.id}'`,
        audit("RETRY_INTENT_CONSUMED", intent.id, "retry_intent"),
        `INSERT INTO regeneration_jobs (id, generator, input, created_by, retry_of_job_id, retry_intent_id) VALUES ('rh1', 'demo', '{"text":"by hand"}', 'psql', '${job.id}', '${intent.id}')`,
        audit("JOB_CREATED", "rh1"),
        audit("REGEN_JOB_RETRIED", job.id),
      ),
    ).toBeUndefined();
  });

  it("an audit event by itself, and revoking a token once", async () => {
    expect(await attempt(t.raw, audit("AUTH_DENIED", "anon", "request"))).toBeUndefined();
    await t.raw.query(
      `INSERT INTO api_tokens (id, name, role, token_sha256) VALUES ('tok2', 'x', 'admin', 'cafe')`,
    );
    expect(
      await attempt(t.raw, "UPDATE api_tokens SET revoked_at=now() WHERE id='tok2'"),
    ).toBeUndefined();
  });
});

describe("the checks a statement leaves to commit", () => {
  const job = (id: string) =>
    `INSERT INTO regeneration_jobs (id, generator, input, created_by) VALUES ('${id}', 'demo', '{"text":"x"}', 'psql')`;
  const pendingChecks = async () =>
    (await t.raw.query("SELECT count(*)::int AS n FROM commit_checks")).rows[0].n as number;

  it("settles in the statement a change that brings its events and outputs along, leaving nothing for commit", async () => {
    const error = await attempt(
      t.raw,
      `WITH j AS (${job("set1")} RETURNING id)
       INSERT INTO audit_events (type, actor, subject_type, subject_id) SELECT 'JOB_CREATED', 'psql', 'job', id FROM j`,
      "SELECT count(*) FROM commit_checks",
    );
    expect(error).toBeUndefined();
    expect(await pendingChecks()).toBe(0);
  });

  it("takes the event from a later statement of the same transaction, and forgets the check once met", async () => {
    expect(await attempt(t.raw, job("set2"), audit("JOB_CREATED", "set2"))).toBeUndefined();
    expect(await pendingChecks()).toBe(0);
  });

  it("checks every row of a many-row statement, naming one that lacks its event", async () => {
    const error = await attempt(
      t.raw,
      `INSERT INTO regeneration_jobs (id, generator, input, created_by)
       SELECT 'set3_' || g, 'demo', '{"text":"x"}', 'psql' FROM generate_series(1, 300) g`,
      `INSERT INTO audit_events (type, actor, subject_type, subject_id)
       SELECT 'JOB_CREATED', 'psql', 'job', 'set3_' || g FROM generate_series(1, 300) g WHERE g <> 217`,
    );
    expect(error?.code).toBe("RG002");
    expect(error?.message).toMatch(/no JOB_CREATED event for set3_217/);
  });

  it("is not fooled by a deleted check row: the check was queued when the row was written", async () => {
    const error = await attempt(t.raw, job("set4"), "DELETE FROM commit_checks");
    expect(error?.code).toBe("RG002");
  });

  it("does not count an event whose savepoint was rolled back", async () => {
    const error = await attempt(
      t.raw,
      job("set5"),
      "SAVEPOINT s",
      audit("JOB_CREATED", "set5"),
      "ROLLBACK TO SAVEPOINT s",
    );
    expect(error?.code).toBe("RG002");
  });

  it("holds an output for a RUNNING job until commit, where its job must be COMPLETED", async () => {
    const id = "set6";
    expect(await attempt(t.raw, job(id), audit("JOB_CREATED", id))).toBeUndefined();
    expect(
      await attempt(
        t.raw,
        `UPDATE regeneration_jobs SET status='RUNNING', claimed_by='w', claimed_at=now(), lease_expires_at=now() + interval '1 minute' WHERE id='${id}'`,
        audit("JOB_CLAIMED", id),
      ),
    ).toBeUndefined();
    // The output first, then the move and its event: met by commit, so it commits.
    expect(
      await attempt(
        t.raw,
        `INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version) VALUES ('set6out', '${id}', '{}', 's', 'v')`,
        `UPDATE regeneration_jobs SET status='COMPLETED', finished_at=now() WHERE id='${id}'`,
        audit("JOB_COMPLETED", id),
      ),
    ).toBeUndefined();
    expect(await pendingChecks()).toBe(0);
  });

  it("lets the application role write check rows but never change or delete them", async () => {
    const { rows } = await t.raw.query(
      `SELECT has_table_privilege('regent_app', 'commit_checks', 'INSERT') AS inserts,
              has_table_privilege('regent_app', 'commit_checks', 'UPDATE') AS updates,
              has_table_privilege('regent_app', 'commit_checks', 'DELETE') AS deletes`,
    );
    expect(rows[0]).toEqual({ inserts: true, updates: false, deletes: false });
    expect((await attempt(t.raw, "UPDATE commit_checks SET subject_ids = '{}'"))?.code).toBe(
      "RG001",
    );
  });
});
