import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  customType,
  foreignKey,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import {
  DEFAULT_INTENT_TTL_HOURS,
  DEFAULT_RETRY_BATCH_MAX,
  DEFAULT_RETRY_BUDGET,
  MAX_INTENT_TTL_HOURS,
  MAX_RETRY_BATCH_MAX,
  MAX_RETRY_BUDGET,
  REASON_TEXT_MAX,
} from "./policy";

export const jobStatus = pgEnum("job_status", ["PENDING", "RUNNING", "COMPLETED", "FAILED"]);
export const retryIntentStatus = pgEnum("retry_intent_status", ["PENDING", "CONSUMED", "REJECTED"]);
export const retryReasonCode = pgEnum("retry_reason_code", [
  "TRANSIENT_FAILURE",
  "BAD_INPUT",
  "IMPROVED_PROMPT",
  "INFRA_ERROR",
  "OTHER",
]);
/**
 * What an intent makes of its source: RETRY runs a FAILED job again (with its input, or a
 * corrected one); SUPERSEDE replaces a COMPLETED job's result with a new job's.
 */
export const retryIntentKind = pgEnum("retry_intent_kind", ["RETRY", "SUPERSEDE"]);
export const apiTokenRole = pgEnum("api_token_role", ["admin", "viewer", "submitter"]);

export type JobStatus = (typeof jobStatus.enumValues)[number];
export type RetryIntentStatus = (typeof retryIntentStatus.enumValues)[number];
export type RetryReasonCode = (typeof retryReasonCode.enumValues)[number];
export type RetryIntentKind = (typeof retryIntentKind.enumValues)[number];

/** The reason codes that say something in the job was wrong: they may change its input, and supersede. */
const CHANGING_REASONS = sql.raw("('BAD_INPUT', 'IMPROVED_PROMPT', 'OTHER')");
export type ApiTokenRole = (typeof apiTokenRole.enumValues)[number];

/** PostgreSQL's 64-bit transaction id; read back as a decimal string. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** How much of a service's answer a failure keeps: a row holds a diagnosis, not the answer. */
export const UPSTREAM_EXCERPT_CHARS = 2000;

/**
 * What the service a generator called answered, on a failure where it answered (the `http`
 * generator's): its status line, its Content-Type and, when the body is text, its first
 * UPSTREAM_EXCERPT_CHARS characters (null when it is not text). It may quote the service's
 * data, so only the job's row keeps it and only admins read it: the audit trail and the API
 * leave it out.
 */
export type UpstreamAnswer = {
  status: number;
  statusText: string;
  contentType: string | null;
  excerpt: string | null;
  /** Whether the body went on past the excerpt. */
  truncated: boolean;
};

/**
 * A failure: its code and message, the generator version that failed when one ran, and what
 * the service it called answered when that explains the failure.
 */
export type JobError = {
  code: string;
  message: string;
  generatorVersion?: string;
  upstream?: UpstreamAnswer;
};

export const regenerationJobs = pgTable(
  "regeneration_jobs",
  {
    id: text("id").primaryKey(),
    generator: text("generator").notNull(),
    input: jsonb("input").$type<unknown>().notNull(),
    status: jobStatus("status").notNull().default("PENDING"),
    retryOfJobId: text("retry_of_job_id")
      .unique("regeneration_jobs_retry_of_job_id_key")
      .references((): AnyPgColumn => regenerationJobs.id),
    retryIntentId: text("retry_intent_id")
      .unique("regeneration_jobs_retry_intent_id_key")
      .references((): AnyPgColumn => retryIntents.id),
    createdBy: text("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    claimedBy: text("claimed_by"),
    claimedAt: ts("claimed_at"),
    leaseExpiresAt: ts("lease_expires_at"),
    finishedAt: ts("finished_at"),
    error: jsonb("error").$type<JobError>(),
  },
  (t) => [
    check(
      "regeneration_jobs_lineage_together",
      sql`(${t.retryOfJobId} IS NULL) = (${t.retryIntentId} IS NULL)`,
    ),
    check("regeneration_jobs_not_own_retry", sql`${t.retryOfJobId} IS DISTINCT FROM ${t.id}`),
    check("regeneration_jobs_generator_nonempty", sql`length(btrim(${t.generator})) > 0`),
    check(
      "regeneration_jobs_running_has_claim",
      sql`${t.status} <> 'RUNNING' OR (${t.claimedBy} IS NOT NULL AND ${t.claimedAt} IS NOT NULL AND ${t.leaseExpiresAt} IS NOT NULL)`,
    ),
    check(
      "regeneration_jobs_pending_unclaimed",
      sql`${t.status} <> 'PENDING' OR (${t.claimedBy} IS NULL AND ${t.claimedAt} IS NULL AND ${t.leaseExpiresAt} IS NULL)`,
    ),
    check(
      "regeneration_jobs_finished_at_iff_finished",
      sql`(${t.finishedAt} IS NOT NULL) = (${t.status} IN ('COMPLETED', 'FAILED'))`,
    ),
    check(
      "regeneration_jobs_error_iff_failed",
      sql`(${t.error} IS NOT NULL) = (${t.status} = 'FAILED')`,
    ),
    check(
      "regeneration_jobs_error_shape",
      sql`${t.error} IS NULL OR (jsonb_typeof(${t.error}->'code') = 'string' AND jsonb_typeof(${t.error}->'message') = 'string')`,
    ),
    /** The claim query scans only this: PENDING jobs, oldest first. */
    index("regeneration_jobs_pending_idx")
      .on(t.createdAt, t.id)
      .where(sql`${t.status} = 'PENDING'`),
    /** The sweeper scans only this: RUNNING jobs by lease expiry. */
    index("regeneration_jobs_running_lease_idx")
      .on(t.leaseExpiresAt)
      .where(sql`${t.status} = 'RUNNING'`),
    index("regeneration_jobs_status_created_idx").on(t.status, t.createdAt, t.id),
    index("regeneration_jobs_generator_created_idx").on(t.generator, t.createdAt, t.id),
    index("regeneration_jobs_created_by_created_idx").on(t.createdBy, t.createdAt, t.id),
    index("regeneration_jobs_created_idx").on(t.createdAt, t.id),
    /**
     * Failed jobs by when they failed: a retry batch's filter and the failure signals read
     * only these rows. Partial, so the worker's status moves of other jobs never touch it.
     */
    index("regeneration_jobs_failed_idx").on(t.finishedAt, t.id).where(sql`${t.status} = 'FAILED'`),
    /**
     * Jobs made by an intent, by when: the hourly retries and the surge rule read the window's
     * rows here, and never the whole history of retries.
     */
    index("regeneration_jobs_successors_created_idx")
      .on(t.createdAt)
      .where(sql`${t.retryIntentId} IS NOT NULL`),
  ],
);

export const regenerationOutputs = pgTable("regeneration_outputs", {
  id: text("id").primaryKey(),
  jobId: text("job_id")
    .notNull()
    .unique("regeneration_outputs_job_id_key")
    .references(() => regenerationJobs.id),
  content: jsonb("content").$type<unknown>().notNull(),
  contentSha256: text("content_sha256").notNull(),
  generatorVersion: text("generator_version").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

/** One governed decision for many failed jobs, frozen at approval. Insert-only. */
export const retryBatches = pgTable(
  "retry_batches",
  {
    id: text("id").primaryKey(),
    /**
     * The filter the admin previewed: { generator?, errorCode?, failedAfter?, failedBefore? } of
     * FAILED jobs to retry, or { generator?, generatorVersion?, completedAfter?, completedBefore? }
     * of COMPLETED jobs to supersede.
     */
    filter: jsonb("filter").$type<Record<string, string>>().notNull(),
    /** RETRY (FAILED jobs) or SUPERSEDE (COMPLETED ones); each intent of the batch has it. */
    kind: retryIntentKind("kind").notNull().default("RETRY"),
    reasonCode: retryReasonCode("reason_code").notNull(),
    reasonText: text("reason_text").notNull(),
    approvedBy: text("approved_by").notNull(),
    approvedAt: ts("approved_at").notNull().defaultNow(),
    jobCount: integer("job_count").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [
    check(
      "retry_batches_reason_text_length",
      sql`char_length(btrim(${t.reasonText})) BETWEEN 1 AND ${sql.raw(String(REASON_TEXT_MAX))}`,
    ),
    check("retry_batches_approved_by_nonempty", sql`length(btrim(${t.approvedBy})) > 0`),
    check("retry_batches_job_count_positive", sql`${t.jobCount} > 0`),
    check(
      "retry_batches_supersede_reason",
      sql`${t.kind} = 'RETRY' OR ${t.reasonCode} IN ${CHANGING_REASONS}`,
    ),
    index("retry_batches_created_idx").on(t.createdAt, t.id),
  ],
);

export const retryIntents = pgTable(
  "retry_intents",
  {
    id: text("id").primaryKey(),
    sourceJobId: text("source_job_id")
      .notNull()
      .references((): AnyPgColumn => regenerationJobs.id),
    sourceOutputRef: text("source_output_ref"),
    /** RETRY a FAILED job, or SUPERSEDE a COMPLETED one. */
    kind: retryIntentKind("kind").notNull().default("RETRY"),
    /** The corrected input the new job runs with; null: the source's input, unchanged. */
    input: jsonb("input").$type<unknown>(),
    reasonCode: retryReasonCode("reason_code").notNull(),
    reasonText: text("reason_text").notNull(),
    approvedBy: text("approved_by").notNull(),
    approvedAt: ts("approved_at").notNull().defaultNow(),
    status: retryIntentStatus("status").notNull().default("PENDING"),
    createdAt: ts("created_at").notNull().defaultNow(),
    consumedBy: text("consumed_by"),
    consumedAt: ts("consumed_at"),
    rejectedBy: text("rejected_by"),
    rejectedAt: ts("rejected_at"),
    rejectionText: text("rejection_text"),
    /** The batch that approved it, if it was approved as part of one. */
    batchId: text("batch_id").references((): AnyPgColumn => retryBatches.id),
    /** Approved past the chain's retry budget, explicitly (reason code OTHER). */
    budgetOverride: boolean("budget_override").notNull().default(false),
    /** After this it can no longer be executed; the worker's sweep rejects it as `system`. */
    /** The units set it from the policy; a row written by hand gets the default lifetime. */
    expiresAt: ts("expires_at")
      .notNull()
      .default(sql`now() + interval '${sql.raw(String(DEFAULT_INTENT_TTL_HOURS))} hours'`),
  },
  (t) => [
    check(
      "retry_intents_expiry_window",
      // No upper bound here: intents approved before expiry existed got 72 hours from then.
      sql`${t.expiresAt} > ${t.approvedAt}`,
    ),
    check(
      "retry_intents_override_reason",
      sql`NOT ${t.budgetOverride} OR ${t.reasonCode} = 'OTHER'`,
    ),
    /** Only a reason that says the input or the prompt was wrong may change the input. */
    check(
      "retry_intents_input_reason",
      sql`${t.input} IS NULL OR ${t.reasonCode} IN ${CHANGING_REASONS}`,
    ),
    /** Superseding a result says what changed; a transient failure or the infrastructure does not. */
    check(
      "retry_intents_supersede_reason",
      sql`${t.kind} = 'RETRY' OR ${t.reasonCode} IN ${CHANGING_REASONS}`,
    ),
    index("retry_intents_batch_idx").on(t.batchId, t.id).where(sql`${t.batchId} IS NOT NULL`),
    /** The expiry sweep reads only these: PENDING intents by expiry. */
    index("retry_intents_pending_expiry_idx").on(t.expiresAt).where(sql`${t.status} = 'PENDING'`),
    check(
      "retry_intents_reason_text_length",
      sql`char_length(btrim(${t.reasonText})) BETWEEN 1 AND ${sql.raw(String(REASON_TEXT_MAX))}`,
    ),
    check("retry_intents_approved_by_nonempty", sql`length(btrim(${t.approvedBy})) > 0`),
    check(
      "retry_intents_consumed_fields",
      sql`(${t.status} = 'CONSUMED') = (${t.consumedBy} IS NOT NULL AND ${t.consumedAt} IS NOT NULL) AND (${t.status} = 'CONSUMED' OR (${t.consumedBy} IS NULL AND ${t.consumedAt} IS NULL))`,
    ),
    check(
      "retry_intents_rejected_fields",
      sql`(${t.status} = 'REJECTED') = (${t.rejectedBy} IS NOT NULL AND ${t.rejectedAt} IS NOT NULL AND ${t.rejectionText} IS NOT NULL) AND (${t.status} = 'REJECTED' OR (${t.rejectedBy} IS NULL AND ${t.rejectedAt} IS NULL AND ${t.rejectionText} IS NULL))`,
    ),
    check(
      "retry_intents_rejection_text_length",
      sql`${t.rejectionText} IS NULL OR char_length(btrim(${t.rejectionText})) BETWEEN 1 AND ${sql.raw(String(REASON_TEXT_MAX))}`,
    ),
    uniqueIndex("retry_intents_one_pending_per_job")
      .on(t.sourceJobId)
      .where(sql`${t.status} = 'PENDING'`),
    index("retry_intents_source_job_idx").on(t.sourceJobId, t.createdAt),
    index("retry_intents_status_created_idx").on(t.status, t.createdAt, t.id),
    index("retry_intents_created_idx").on(t.createdAt, t.id),
  ],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    type: text("type").notNull(),
    actor: text("actor").notNull(),
    subjectType: text("subject_type").notNull(),
    subjectId: text("subject_id").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    requestId: text("request_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    createdAt: ts("created_at").notNull().defaultNow(),
    /** The writing transaction, set by a trigger; lets the database check that every change has its event. */
    txId: xid8("tx_id").notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    /**
     * Serves both a subject's trail and the commit-time check "this change has its event"
     * (subject_id = … AND type = …). With type in the index that check is one index probe even
     * before PostgreSQL has statistics; with (subject_id, id) alone the planner combined it with
     * the type index and a bulk insert of 20,000 jobs took 13 s to commit instead of 0.13 s.
     */
    index("audit_events_subject_idx").on(t.subjectId, t.type, t.id),
    index("audit_events_type_idx").on(t.type, t.id),
    /** The audit page filtered by who acted, newest first. */
    index("audit_events_actor_idx").on(t.actor, t.id),
    /**
     * The audit page filtered by when: events are only ever appended, so their time follows
     * their place on disk and a block range index finds a window for a few pages of its own.
     */
    index("audit_events_created_idx").using("brin", t.createdAt),
  ],
);

export const apiTokens = pgTable("api_tokens", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  role: apiTokenRole("role").notNull(),
  tokenSha256: text("token_sha256").notNull().unique("api_tokens_token_sha256_key"),
  createdAt: ts("created_at").notNull().defaultNow(),
  revokedAt: ts("revoked_at"),
});

/** First responses of idempotent POSTs, replayed for a repeated key from the same principal. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    principal: text("principal").notNull(),
    key: text("key").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    requestSha256: text("request_sha256").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: jsonb("response_body").$type<unknown>().notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.principal, t.key] }),
    /** The worker prunes keys older than a day by this. */
    index("idempotency_keys_created_idx").on(t.createdAt),
  ],
);

/**
 * The audit log's seals, insert-only: each covers the audit events with ids in
 * (from_event_id, to_event_id], a range no transaction can still add to, and chains a SHA-256
 * digest of them to the previous seal's. Written and checked by regent_seal_audit() and
 * regent_verify_audit() (db/functions/).
 */
export const auditSeals = pgTable("audit_seals", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  fromEventId: bigint("from_event_id", { mode: "number" }).notNull(),
  toEventId: bigint("to_event_id", { mode: "number" }).notNull(),
  eventCount: integer("event_count").notNull(),
  /** The ids present in the range, in order (a rolled-back insert leaves a gap). */
  eventIds: bigint("event_ids", { mode: "number" }).array().notNull(),
  /** The first 8 bytes of each event's SHA-256, in the order of event_ids: names a changed event. */
  eventHashes: customType<{ data: string; driverData: string }>({ dataType: () => "bytea" })(
    "event_hashes",
  ).notNull(),
  prevDigest: text("prev_digest").notNull(),
  digest: text("digest").notNull(),
  /** The next seal may cover ids up to this, once every transaction below `next_xmax` ended. */
  nextWatermarkId: bigint("next_watermark_id", { mode: "number" }).notNull(),
  nextXmax: xid8("next_xmax").notNull(),
  sealedBy: text("sealed_by").notNull(),
  sealedAt: ts("sealed_at").notNull().defaultNow(),
});

/**
 * Admin page sessions, so that signing out ends a session on the server: a copied cookie is
 * refused afterwards. Only `ended_at` is ever set, once.
 */
export const adminSessions = pgTable(
  "admin_sessions",
  {
    id: text("id").primaryKey(),
    tokenId: text("token_id")
      .notNull()
      .references(() => apiTokens.id),
    createdAt: ts("created_at").notNull().defaultNow(),
    expiresAt: ts("expires_at").notNull(),
    endedAt: ts("ended_at"),
  },
  (t) => [index("admin_sessions_token_idx").on(t.tokenId)],
);

/**
 * Refused requests that proved no identity, counted per hour, address and reason: an
 * anonymous client cannot grow the insert-only audit log, and this table is pruned.
 */
export const authRefusals = pgTable(
  "auth_refusals",
  {
    hour: ts("hour").notNull(),
    ip: text("ip").notNull(),
    reason: text("reason").notNull(),
    count: integer("count").notNull().default(1),
    lastPath: text("last_path"),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.ip, t.reason] })],
);

export type Job = typeof regenerationJobs.$inferSelect;
export type Output = typeof regenerationOutputs.$inferSelect;
export type RetryIntent = typeof retryIntents.$inferSelect;
export type RetryBatch = typeof retryBatches.$inferSelect;
export type AuditEvent = typeof auditEvents.$inferSelect;
export type ApiToken = typeof apiTokens.$inferSelect;
export type AuditSeal = typeof auditSeals.$inferSelect;
export type AdminSession = typeof adminSessions.$inferSelect;

/**
 * What a statement on jobs or outputs left for its transaction's end: the audit events and
 * outputs it did not bring along itself. A statement that brings them (the worker's claim and
 * finish, the retry batch) writes no row here; one that does not (INSERT a job, then its
 * event) writes one row for all its rows, checked once at commit and deleted then
 * (0007's triggers; see docs/invariants.md).
 */
export const commitChecks = pgTable("commit_checks", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  /** Each subject needs an audit event of the type at the same position, in this transaction. */
  subjectIds: text("subject_ids").array().notNull(),
  eventTypes: text("event_types").array().notNull(),
  /** COMPLETED jobs that need their output by commit. */
  outputJobIds: text("output_job_ids").array().notNull(),
  /** Jobs of new outputs, COMPLETED by commit. */
  completedJobIds: text("completed_job_ids").array().notNull(),
});

export type CommitCheck = typeof commitChecks.$inferSelect;

/**
 * The policy the database applies, one row: written by the owner at migrate and deploy time
 * from the configuration (regent_set_policy), read by every unit of work and guard through
 * regent_policy(). The application role may read it, never write it.
 */
export const regentPolicy = pgTable(
  "regent_policy",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    /** RETRY_BUDGET: governed retries a chain gets without an override. */
    retryBudget: integer("retry_budget").notNull().default(DEFAULT_RETRY_BUDGET),
    /** INTENT_TTL_HOURS: how long an approval stays executable unless the request says. */
    intentTtlHours: integer("intent_ttl_hours").notNull().default(DEFAULT_INTENT_TTL_HOURS),
    /** The longest an approval may be made executable for. */
    intentTtlMaxHours: integer("intent_ttl_max_hours").notNull().default(MAX_INTENT_TTL_HOURS),
    /** REQUIRE_DISTINCT_EXECUTOR: the approver of an intent or batch may not execute it. */
    requireDistinctExecutor: boolean("require_distinct_executor").notNull().default(false),
    /** RETRY_BATCH_MAX: the most jobs one retry batch holds. */
    retryBatchMax: integer("retry_batch_max").notNull().default(DEFAULT_RETRY_BATCH_MAX),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    check("regent_policy_singleton", sql`${t.singleton}`),
    check(
      "regent_policy_retry_budget",
      sql`${t.retryBudget} BETWEEN 0 AND ${sql.raw(String(MAX_RETRY_BUDGET))}`,
    ),
    check(
      "regent_policy_ttl_max",
      sql`${t.intentTtlMaxHours} BETWEEN 1 AND ${sql.raw(String(MAX_INTENT_TTL_HOURS))}`,
    ),
    check("regent_policy_ttl", sql`${t.intentTtlHours} BETWEEN 1 AND ${t.intentTtlMaxHours}`),
    check(
      "regent_policy_batch_max",
      sql`${t.retryBatchMax} BETWEEN 1 AND ${sql.raw(String(MAX_RETRY_BATCH_MAX))}`,
    ),
  ],
);

export type RegentPolicy = typeof regentPolicy.$inferSelect;

/**
 * Every (generator, version, input schema) a worker has published: insert-only. A version is
 * one input schema for good; a generator whose schema changes publishes a new version.
 */
export const generatorVersions = pgTable(
  "generator_versions",
  {
    generator: text("generator").notNull(),
    version: text("version").notNull(),
    /** A JSON Schema (draft 2020-12) of the input a job of this version accepts. */
    inputSchema: jsonb("input_schema").$type<unknown>().notNull(),
    /** SHA-256 (hex) of the schema as PostgreSQL prints it (`input_schema::text`). */
    schemaSha256: text("schema_sha256").notNull(),
    publishedBy: text("published_by").notNull(),
    publishedAt: ts("published_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.generator, t.version] }),
    check("generator_versions_version_shape", sql`${t.version} ~ '^[\x21-\x7e]{1,100}$'`),
    check(
      "generator_versions_schema_shape",
      sql`jsonb_typeof(${t.inputSchema}) IN ('object', 'boolean')`,
    ),
  ],
);

/**
 * The catalog: each generator the workers run, the version they run now, and whether an admin
 * paused it (the claim skips a paused generator's jobs). Rows are never deleted; only the
 * current version and the pause change, through the regent_… functions that audit them.
 */
export const generators = pgTable(
  "generators",
  {
    name: text("name").primaryKey(),
    currentVersion: text("current_version").notNull(),
    pausedAt: ts("paused_at"),
    pausedBy: text("paused_by"),
    pauseReason: text("pause_reason"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      name: "generators_current_version_fkey",
      columns: [t.name, t.currentVersion],
      foreignColumns: [generatorVersions.generator, generatorVersions.version],
    }),
    check("generators_name_shape", sql`${t.name} ~ '^[a-z][a-z0-9_.-]{0,63}$'`),
    check(
      "generators_paused_fields",
      sql`(${t.pausedAt} IS NULL) = (${t.pausedBy} IS NULL) AND (${t.pausedAt} IS NULL) = (${t.pauseReason} IS NULL)`,
    ),
    check(
      "generators_pause_reason_length",
      sql`${t.pauseReason} IS NULL OR char_length(btrim(${t.pauseReason})) BETWEEN 1 AND ${sql.raw(String(REASON_TEXT_MAX))}`,
    ),
  ],
);

export type Generator = typeof generators.$inferSelect;
export type GeneratorVersion = typeof generatorVersions.$inferSelect;

/**
 * A known principal's refusals (a role it lacks), counted per hour, principal and route: the
 * first of each is audited as AUTH_DENIED, the others only counted here, so that a principal
 * calling what it may not call cannot grow the insert-only audit log at will. Pruned as the
 * anonymous counts are.
 */
export const authDenials = pgTable(
  "auth_denials",
  {
    hour: ts("hour").notNull(),
    actor: text("actor").notNull(),
    /** The route's template (`/api/admin/jobs/:id`), so that ids do not make new rows. */
    route: text("route").notNull(),
    count: integer("count").notNull().default(1),
    lastRequestId: text("last_request_id"),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.actor, t.route] })],
);

/**
 * Counts the database keeps of its own rows, so that what a page or a scrape shows costs the
 * same on a history of any length. Each statement that adds or moves jobs or intents appends
 * one row per key it changed, with the change (`regent_tally_*` triggers, in the same
 * transaction); a count is the sum of its key's rows, and `regent_compact_tallies` folds the
 * rows into one per key now and then. Keys: a job's generator, status, error code (FAILED
 * only), and the kind and reason code of the intent that made it ('' for an original); an
 * intent's status, kind and reason code. Written only by the database's own functions.
 */
export const tallies = pgTable(
  "tallies",
  {
    subject: text("subject").notNull(),
    generator: text("generator").notNull().default(""),
    status: text("status").notNull(),
    code: text("code").notNull().default(""),
    kind: text("kind").notNull().default(""),
    reason: text("reason").notNull().default(""),
    count: bigint("count", { mode: "number" }).notNull(),
  },
  (t) => [check("tallies_subject", sql`${t.subject} IN ('job', 'intent')`)],
);

/** What has been decided about a FAILED job without a successor (`open_failures.decision`). */
export const OPEN_FAILURE_DECISIONS = ["open", "pending", "rejected"] as const;
export type OpenFailureDecision = (typeof OPEN_FAILURE_DECISIONS)[number];

/**
 * The FAILED jobs without a successor: what a retry batch takes from and what the admin page
 * lists as needing a decision, kept by the database as jobs fail, intents are recorded and
 * decided, and jobs are retried, so that neither walks the failures that were retried long
 * ago. A row goes when its job gets a successor.
 */
export const openFailures = pgTable(
  "open_failures",
  {
    jobId: text("job_id")
      .primaryKey()
      .references(() => regenerationJobs.id),
    generator: text("generator").notNull(),
    errorCode: text("error_code").notNull(),
    failedAt: ts("failed_at").notNull(),
    /** Whether the job is itself a retry: only then has a batch its chain's depth to find. */
    isRetry: boolean("is_retry").notNull(),
    /**
     * `pending` while an intent for the job waits; `rejected` when a person rejected its newest
     * intent (leaving it failed was the decision); `open` otherwise: nothing decided yet, which
     * an intent the worker rejected as expired (`system`) does not change. Kept by the triggers
     * on retry_intents, in the intent's own transaction.
     */
    decision: text("decision").$type<OpenFailureDecision>().notNull().default("open"),
  },
  (t) => [
    check(
      "open_failures_decision",
      sql`${t.decision} IN ${sql.raw(`(${OPEN_FAILURE_DECISIONS.map((d) => `'${d}'`).join(", ")})`)}`,
    ),
    /**
     * By decision first: the open ones (the admin page's list and counts), the rejected ones a
     * batch preview counts, and the open and pending ones a batch takes from, each read from
     * its own range, in failure-time order for each shape of filter (generator and error
     * code, generator, error code, neither): a batch's failure windows walk them in that order
     * and stop after a batch's worth, which an index that leaves a field between the filter's
     * and the time could not give without sorting every match.
     */
    index("open_failures_decision_idx").on(t.decision, t.generator, t.errorCode, t.failedAt),
    index("open_failures_decision_generator_idx").on(t.decision, t.generator, t.failedAt),
    index("open_failures_decision_code_idx").on(t.decision, t.errorCode, t.failedAt),
    index("open_failures_decision_failed_idx").on(t.decision, t.failedAt),
  ],
);

/**
 * The database's own secrets, readable by its owner alone: the key a batch preview's token is
 * made with (regent_preview_token), drawn at random when the table is made, so that a token
 * names a set of jobs of this database and cannot be made without asking it.
 */
export const regentSecrets = pgTable(
  "regent_secrets",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    previewKey: text("preview_key")
      .notNull()
      .default(
        sql`encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')`,
      ),
  },
  (t) => [check("regent_secrets_singleton", sql`${t.singleton}`)],
);
