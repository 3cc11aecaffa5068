/**
 * A realistic admin database for the screenshots: finished and failed jobs of two generators,
 * a retry chain three jobs long, retry intents in each status, a superseded result and a retry
 * with a corrected input. Original jobs are backdated (hours ago) the way a worker would have
 * left them; decisions go through the domain functions.
 */
import { sql } from "drizzle-orm";
import { type Db, type Executor, rowsOf } from "../../db/types";
import { createApiToken } from "../../functions/domain/api-tokens";
import type { AuditContext } from "../../functions/domain/audit";
import { newId } from "../../functions/domain/ids";
import { createRetryBatch, previewRetryBatch } from "../../functions/domain/retry-batches";
import { createRetryIntent, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";

const WORKER = "worker:cron-eu-1";

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

type Outcome =
  | { status: "COMPLETED"; content: unknown }
  | { status: "FAILED"; code: string; message: string }
  | { status: "RUNNING" }
  | { status: "PENDING" };

async function audit(
  db: Executor,
  type: string,
  subjectId: string,
  actor: string,
  minutesAgo: number,
  data: Record<string, unknown> = {},
) {
  // The worker is a system actor; jobs are submitted over HTTP, so their events carry a request.
  const request = actor.startsWith("worker:")
    ? { id: null, ip: null, ua: null }
    : { id: crypto.randomUUID(), ip: "10.20.7.3", ua: "ingest-service/2.3" };
  await db.execute(sql`INSERT INTO audit_events (type, actor, subject_type, subject_id, data, created_at, request_id, ip, user_agent)
    VALUES (${type}, ${actor}, 'job', ${subjectId}, ${JSON.stringify(data)}::jsonb, ${at(minutesAgo)}::timestamptz,
      ${request.id}, ${request.ip}, ${request.ua})`);
}

/** The catalog's current version of a job's generator: what a worker runs it under. */
const versionOf = (jobId: string) =>
  sql`(SELECT g.current_version FROM generators g JOIN regeneration_jobs j ON j.generator = g.name
       WHERE j.id = ${jobId})`;

/** Claims and finishes a job as the worker does, each step in its own audited transaction. */
async function run(db: Db, jobId: string, outcome: Outcome, claimedAgo: number, tookMinutes = 1) {
  if (outcome.status === "PENDING") return;
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = ${WORKER},
      claimed_at = ${at(claimedAgo)}::timestamptz, lease_expires_at = ${at(claimedAgo - 5)}::timestamptz
      WHERE id = ${jobId}`);
    await audit(tx, "JOB_CLAIMED", jobId, WORKER, claimedAgo);
  });
  if (outcome.status === "RUNNING") return;
  const finishedAgo = claimedAgo - tookMinutes;
  await db.transaction(async (tx) => {
    const t = tx;
    if (outcome.status === "COMPLETED") {
      await t.execute(
        sql`UPDATE regeneration_jobs SET status = 'COMPLETED', finished_at = ${at(finishedAgo)}::timestamptz WHERE id = ${jobId}`,
      );
      const content = JSON.stringify(outcome.content);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(content));
      const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(
        "",
      );
      await t.execute(sql`INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version, created_at)
        VALUES (${`out_${jobId}`}, ${jobId}, ${content}::jsonb, ${hex}, ${versionOf(jobId)}, ${at(finishedAgo)}::timestamptz)`);
      await audit(t, "JOB_COMPLETED", jobId, WORKER, finishedAgo);
    } else {
      const error = JSON.stringify({ code: outcome.code, message: outcome.message });
      // A generator that ran names its version with its failure; a lapsed lease knows none.
      const version = outcome.code === "LEASE_EXPIRED" ? sql`NULL` : versionOf(jobId);
      await t.execute(sql`UPDATE regeneration_jobs SET status = 'FAILED', finished_at = ${at(finishedAgo)}::timestamptz,
        error = jsonb_strip_nulls(${error}::jsonb || jsonb_build_object('generatorVersion', ${version}))
        WHERE id = ${jobId}`);
      await audit(t, "JOB_FAILED", jobId, WORKER, finishedAgo, { code: outcome.code });
    }
  });
}

async function job(
  db: Db,
  generator: string,
  input: unknown,
  createdAgo: number,
  outcome: Outcome,
): Promise<string> {
  const id = newId();
  await db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO regeneration_jobs (id, generator, input, created_by, created_at)
      VALUES (${id}, ${generator}, ${JSON.stringify(input)}::jsonb, 'token:ingest', ${at(createdAgo)}::timestamptz)`);
    await audit(tx, "JOB_CREATED", id, "token:ingest", createdAgo, { generator });
  });
  await run(db, id, outcome, createdAgo - 1);
  return id;
}

/** An admin at the page: each action is a request of its own. */
function person(actor: string, ip: string): () => AuditContext {
  return () => ({
    actor,
    ip,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/138.0",
    requestId: crypto.randomUUID(),
  });
}

export interface Demo {
  /** The admin who will be signed in for the screenshots. */
  token: string;
  chainMiddleJobId: string;
  pendingIntentId: string;
  /** A batch approved for an upstream outage, partly decided one by one since. */
  batchId: string;
  /** The preview of a second incident's failures, not yet approved. */
  previewPath: string;
  /** A failed job whose chain has used its whole retry budget. */
  overBudgetJobId: string;
  /** A completed invoice summary superseded by a better template's, both outputs on record. */
  supersededJobId: string;
  /** A pending retry of a failed job with a corrected input. */
  correctedIntentId: string;
}

export async function seedDemo(db: Db): Promise<Demo> {
  // What the worker did over the last hours, oldest first so the audit log reads in order.
  const articles = ["pricing page", "onboarding email", "release notes 1.4", "FAQ: billing"];
  for (const [i, text] of articles.entries()) {
    await job(db, "demo", { text }, 300 - i * 50, {
      status: "COMPLETED",
      content: { text: text.toUpperCase() },
    });
  }
  const terms = await job(
    db,
    "http",
    { documentId: "inv_2025_0398", template: "summary-v2", locale: "en-GB" },
    230,
    {
      status: "COMPLETED",
      content: {
        summary: "Invoice INV-2025-0398: 4 lines, total EUR 2,310.00, due 14 days net.",
        lines: 4,
        currency: "EUR",
        total: "2310.00",
        dueDays: 14,
        template: "summary-v2",
      },
    },
  );
  const invoice = await job(
    db,
    "http",
    { documentId: "inv_2025_0412", template: "summary-v3", locale: "en-GB" },
    190,
    { status: "FAILED", code: "HTTP_STATUS_502", message: "upstream answered 502 Bad Gateway" },
  );
  const report = await job(
    db,
    "demo",
    { text: "quarterly report: EMEA", failAttempts: 2, tone: "neutral" },
    140,
    { status: "FAILED", code: "DEMO_FAILURE", message: "generator refused the prompt (attempt 1)" },
  );
  const drained = await job(
    db,
    "http",
    { documentId: "ctr_88213", template: "contract-digest", locale: "de-DE" },
    48,
    {
      status: "FAILED",
      code: "LEASE_EXPIRED",
      message: "the worker's lease expired before it finished",
    },
  );
  await job(db, "http", { documentId: "inv_2025_0419", template: "summary-v3" }, 26, {
    status: "FAILED",
    code: "HTTP_TIMEOUT",
    message: "no answer from the generator endpoint within 30 s",
  });
  await job(db, "demo", { text: "welcome back email", failAttempts: 1 }, 12, {
    status: "FAILED",
    code: "DEMO_FAILURE",
    message: "demo failure requested by input (failAttempts: 1)",
  });
  await job(db, "demo", { text: "status digest" }, 3, { status: "RUNNING" });
  await job(db, "http", { documentId: "inv_2025_0420", template: "summary-v3" }, 1, {
    status: "PENDING",
  });

  // Then this morning's decisions, made through the domain as the admin page makes them.
  const alice = await createApiToken(
    db,
    { actor: "system:seed" },
    { name: "alice", role: "admin" },
  );
  const bob = await createApiToken(db, { actor: "system:seed" }, { name: "bob", role: "admin" });
  const asAlice = person(`token:${alice.record.id}`, "10.20.4.17");
  const asBob = person(`token:${bob.record.id}`, "10.20.4.31");

  // An upstream incident: rejected once (too early), then retried and completed.
  const early = await createRetryIntent(db, asBob(), {
    sourceJobId: invoice,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "Provider returned 502s for a few minutes; retrying.",
  });
  await rejectRetryIntent(
    db,
    asAlice(),
    early.id,
    "Their incident is still open (status page); wait for the all-clear.",
  );
  const incident = await createRetryIntent(db, asAlice(), {
    sourceJobId: invoice,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "Provider confirmed the 502s were their incident, resolved at 09:40 UTC.",
  });
  const invoiceRetry = await createRetryJobFromIntent(db, asBob(), incident.id);
  await run(
    db,
    invoiceRetry.job.id,
    {
      status: "COMPLETED",
      content: {
        summary: "Invoice INV-2025-0412: 3 lines, total EUR 1,284.50, due 30 days net.",
        lines: 3,
        currency: "EUR",
      },
    },
    0,
    0,
  );

  // A chain: the original failed, its retry failed too, the second retry is running.
  const prompt = await createRetryIntent(db, asAlice(), {
    sourceJobId: report,
    reasonCode: "IMPROVED_PROMPT",
    reasonText: "Prompt template v7 fixes the refusal on regional reports.",
  });
  const first = await createRetryJobFromIntent(db, asBob(), prompt.id);
  await run(
    db,
    first.job.id,
    { status: "FAILED", code: "DEMO_FAILURE", message: "generator refused the prompt (attempt 2)" },
    0,
    0,
  );
  const again = await createRetryIntent(db, asBob(), {
    sourceJobId: first.job.id,
    reasonCode: "IMPROVED_PROMPT",
    reasonText: "v7 was not deployed to the worker yet; it is now (1.4.2).",
  });
  const second = await createRetryJobFromIntent(db, asAlice(), again.id);
  await run(db, second.job.id, { status: "RUNNING" }, 0);

  // A result that was wrong: the old template took the invoice's default payment terms, not
  // the contract's. Superseded with the new template; the old output stays on record.
  const betterTemplate = await createRetryIntent(db, asAlice(), {
    sourceJobId: terms,
    kind: "SUPERSEDE",
    input: { documentId: "inv_2025_0398", template: "summary-v3", locale: "en-GB" },
    reasonCode: "IMPROVED_PROMPT",
    reasonText: "summary-v2 printed the invoice's default terms; summary-v3 reads the contract's.",
  });
  const replacement = await createRetryJobFromIntent(db, asBob(), betterTemplate.id);
  await run(
    db,
    replacement.job.id,
    {
      status: "COMPLETED",
      content: {
        summary: "Invoice INV-2025-0398: 4 lines, total EUR 2,310.00, due 30 days net.",
        lines: 4,
        currency: "EUR",
        total: "2310.00",
        dueDays: 30,
        template: "summary-v3",
      },
    },
    0,
    0,
  );

  // An input the upstream refused: corrected, the retry waits for execution.
  const badLocale = await job(
    db,
    "http",
    { documentId: "inv_2025_0431", template: "summary-v3", locale: "en_GB" },
    16,
    {
      status: "FAILED",
      code: "INVALID_INPUT",
      message: 'upstream refused the request: locale "en_GB" is not a BCP 47 tag',
    },
  );
  const corrected = await createRetryIntent(db, asBob(), {
    sourceJobId: badLocale,
    input: { documentId: "inv_2025_0431", template: "summary-v3", locale: "en-GB" },
    reasonCode: "BAD_INPUT",
    reasonText: "Ingest wrote the locale with an underscore; fixed there for new documents too.",
  });

  // A lease that expired during a deploy: an intent waits for execution.
  const pending = await createRetryIntent(db, asAlice(), {
    sourceJobId: drained,
    reasonCode: "INFRA_ERROR",
    reasonText: "Worker node was drained during the 14:05 deploy; nothing is wrong with the job.",
  });

  // An outage of the invoice service an hour and a half ago: approved as one batch, then one
  // document found deleted upstream (rejected alone) and one retried ahead of the rest.
  const outage: string[] = [];
  for (const [i, doc] of ["0503", "0504", "0507", "0511", "0512", "0515", "0518"].entries()) {
    outage.push(
      await job(db, "http", { documentId: `inv_2025_${doc}`, template: "summary-v3" }, 96 - i * 3, {
        status: "FAILED",
        code: "HTTP_STATUS_503",
        message: "upstream answered 503 Service Unavailable",
      }),
    );
  }
  const outageFilter = {
    generator: "http",
    errorCode: "HTTP_STATUS_503",
    failedAfter: at(100),
    failedBefore: at(70),
  };
  const batch = await createRetryBatch(db, asAlice(), {
    filter: outageFilter,
    previewToken: (await previewRetryBatch(db, outageFilter)).previewToken,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText:
      "Invoice service outage (their incident #4471); their status page shows it resolved.",
  });
  const batchIntents = async () =>
    rowsOf<{ id: string; source_job_id: string }>(
      await db.execute(
        sql`SELECT id, source_job_id FROM retry_intents WHERE batch_id = ${batch.id} ORDER BY source_job_id`,
      ),
    );
  const [deleted, urgent] = await batchIntents();
  if (!deleted || !urgent) throw new Error("the demo batch has too few intents");
  await rejectRetryIntent(
    db,
    asBob(),
    deleted.id,
    "Document was deleted upstream on purpose; nothing to summarise.",
  );
  const urgentRetry = await createRetryJobFromIntent(db, asBob(), urgent.id);
  await run(
    db,
    urgentRetry.job.id,
    { status: "COMPLETED", content: { summary: "Invoice summary regenerated.", lines: 2 } },
    0,
    0,
  );

  // A second incident, not decided yet: generator timeouts twenty minutes ago. One already has
  // an intent, and one chain has used its whole retry budget.
  const slow = ["churn digest", "renewal reminder", "weekly KPIs", "partner newsletter"];
  for (const [i, text] of slow.entries()) {
    await job(db, "demo", { text, tone: "neutral" }, 24 - i, {
      status: "FAILED",
      code: "GENERATOR_TIMEOUT",
      message: "the generator did not finish within 60 s",
    });
  }
  const alreadyPending = await job(db, "demo", { text: "board summary" }, 19, {
    status: "FAILED",
    code: "GENERATOR_TIMEOUT",
    message: "the generator did not finish within 60 s",
  });
  await createRetryIntent(db, asBob(), {
    sourceJobId: alreadyPending,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "Model host was saturated; retrying this one by itself first.",
  });
  let stubborn = await job(db, "demo", { text: "legal disclaimer (long)" }, 30, {
    status: "FAILED",
    code: "GENERATOR_TIMEOUT",
    message: "the generator did not finish within 60 s",
  });
  for (const why of ["Host saturated.", "Still saturated at 10:00.", "Scaled up the host."]) {
    const intent = await createRetryIntent(db, asAlice(), {
      sourceJobId: stubborn,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: why,
    });
    const retry = await createRetryJobFromIntent(db, asBob(), intent.id);
    await run(
      db,
      retry.job.id,
      {
        status: "FAILED",
        code: "GENERATOR_TIMEOUT",
        message: "the generator did not finish within 60 s",
      },
      0,
      0,
    );
    stubborn = retry.job.id;
  }

  return {
    token: bob.token,
    chainMiddleJobId: first.job.id,
    pendingIntentId: pending.id,
    batchId: batch.id,
    previewPath: "/admin/retry-batches/new?generator=demo&errorCode=GENERATOR_TIMEOUT",
    overBudgetJobId: stubborn,
    supersededJobId: terms,
    correctedIntentId: corrected.id,
  };
}
