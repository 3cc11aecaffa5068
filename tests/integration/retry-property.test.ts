import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import type { ErrorCode } from "../../functions/domain/errors";
import { DomainError } from "../../functions/domain/errors";
import { createRetryIntent, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failedJob, failJob } from "../helpers/fixtures";

/**
 * Random sequences of what admins and workers do — record an intent, execute it, reject it,
 * let a retry job fail — checked step by step against a small model of the rules, and after
 * each run against the invariants as the database sees them.
 */

type Command =
  | { kind: "create"; job: number }
  | { kind: "execute"; intent: number; concurrent: number }
  | { kind: "reject"; intent: number }
  | { kind: "fail"; job: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), job: fc.nat(7) }),
  fc.record({
    kind: fc.constant("execute" as const),
    intent: fc.nat(7),
    concurrent: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("reject" as const), intent: fc.nat(7) }),
  fc.record({ kind: fc.constant("fail" as const), job: fc.nat(7) }),
);

interface ModelJob {
  id: string;
  status: "PENDING" | "FAILED";
  retriedBy?: string;
}
interface ModelIntent {
  id: string;
  jobId: string;
  status: "PENDING" | "CONSUMED" | "REJECTED";
}

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ max: 10 });
});

async function outcome(promise: Promise<unknown>): Promise<"ok" | ErrorCode> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

async function checkInvariants(jobIds: string[]) {
  const q = async (text: string) => (await t.raw.query(text, [jobIds])).rows;
  // A CONSUMED intent has exactly one job; PENDING and REJECTED ones have none.
  const intents = await q(`SELECT i.status, count(j.id)::int AS jobs FROM retry_intents i
    LEFT JOIN regeneration_jobs j ON j.retry_intent_id = i.id WHERE i.source_job_id = ANY($1) GROUP BY i.id, i.status`);
  for (const row of intents) expect(row.jobs).toBe(row.status === "CONSUMED" ? 1 : 0);
  // At most one PENDING intent per job; a retried job has no PENDING intent.
  expect(
    await q(`SELECT source_job_id FROM retry_intents WHERE source_job_id = ANY($1) AND status = 'PENDING'
    GROUP BY source_job_id HAVING count(*) > 1`),
  ).toEqual([]);
  // Every retry job copies a FAILED job's generator and input.
  expect(
    await q(`SELECT r.id FROM regeneration_jobs r JOIN regeneration_jobs s ON s.id = r.retry_of_job_id
    WHERE s.id = ANY($1) AND (s.status <> 'FAILED' OR s.generator <> r.generator OR s.input <> r.input)`),
  ).toEqual([]);
  // Every intent's events match its state exactly.
  const audit =
    await q(`SELECT i.status, array_agg(a.type ORDER BY a.id) AS types FROM retry_intents i
    JOIN audit_events a ON a.subject_id = i.id WHERE i.source_job_id = ANY($1) GROUP BY i.id, i.status`);
  const expected = {
    PENDING: ["RETRY_INTENT_CREATED"],
    CONSUMED: ["RETRY_INTENT_CREATED", "RETRY_INTENT_CONSUMED", "RETRY_INTENT_EXECUTED"],
    REJECTED: ["RETRY_INTENT_CREATED", "RETRY_INTENT_REJECTED"],
  } as Record<string, string[]>;
  for (const row of audit) expect(row.types).toEqual(expected[row.status]);
}

it("no sequence of admin and worker actions breaks the retry rules", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 14 }), async (commands) => {
      const jobs: ModelJob[] = [];
      for (let i = 0; i < 2; i++) jobs.push({ id: (await failedJob(t.db)).id, status: "FAILED" });
      const intents: ModelIntent[] = [];
      const pick = <T>(list: T[], n: number) =>
        list.length === 0 ? undefined : list[n % list.length];

      for (const c of commands) {
        if (c.kind === "create") {
          const job = pick(jobs, c.job) as ModelJob;
          const hasPending = intents.some((i) => i.jobId === job.id && i.status === "PENDING");
          const expected =
            job.status !== "FAILED"
              ? "JOB_NOT_FAILED"
              : hasPending
                ? "INTENT_ALREADY_PENDING"
                : job.retriedBy
                  ? "JOB_ALREADY_RETRIED"
                  : "ok";
          let created: string | undefined;
          const got = await outcome(
            createRetryIntent(t.db, admin, {
              sourceJobId: job.id,
              reasonCode: "OTHER",
              reasonText: "prop",
            }).then((i) => {
              created = i.id;
            }),
          );
          expect(got).toBe(expected);
          if (created) intents.push({ id: created, jobId: job.id, status: "PENDING" });
        } else if (c.kind === "execute" || c.kind === "reject") {
          const intent = pick(intents, c.intent);
          if (!intent) continue;
          const expected = intent.status === "PENDING" ? "ok" : "INTENT_NOT_PENDING";
          if (c.kind === "reject") {
            expect(await outcome(rejectRetryIntent(t.db, admin, intent.id, "no"))).toBe(expected);
            if (expected === "ok") intent.status = "REJECTED";
            continue;
          }
          const results = await Promise.all(
            Array.from({ length: c.concurrent }, () =>
              createRetryJobFromIntent(t.db, admin, intent.id).then(
                (r) => r.job.id,
                (e: unknown) => {
                  if (e instanceof DomainError) return e.code;
                  throw e;
                },
              ),
            ),
          );
          const made = results.filter(
            (r) => !r.startsWith("INTENT_") && r !== "JOB_ALREADY_RETRIED",
          );
          expect(made).toHaveLength(expected === "ok" ? 1 : 0);
          if (made[0]) {
            intent.status = "CONSUMED";
            const source = jobs.find((j) => j.id === intent.jobId) as ModelJob;
            source.retriedBy = made[0];
            jobs.push({ id: made[0], status: "PENDING" });
          }
        } else {
          const job = pick(jobs, c.job) as ModelJob;
          if (job.status === "PENDING") {
            await failJob(t.db, job.id);
            job.status = "FAILED";
          }
        }
      }
      await checkInvariants(jobs.map((j) => j.id));
    }),
    { numRuns: 40 },
  );
});
