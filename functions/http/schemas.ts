import { z } from "@hono/zod-openapi";
import { GENERATOR_NAME, GENERATOR_VERSION } from "../../db/catalog";
import { MAX_INTENT_TTL_HOURS, MAX_RETRY_BATCH_MAX } from "../../db/policy";
import { jobStatus, retryIntentKind, retryIntentStatus, retryReasonCode } from "../../db/schema";
import { AUDIT_TYPES } from "../domain/audit";
import { ERROR_CODES } from "../domain/errors";
import { calendarDay, INSTANT_PATTERN } from "../domain/instants";
import { MAX_PAGE_SIZE } from "../domain/pagination";
import { OUTPUT_REF_MAX, REASON_TEXT_MAX } from "../domain/retry-intents";

/**
 * Request and response shapes of the API. Requests are strict (unknown fields are refused, so
 * nothing can be mass-assigned); responses document what the serialisers produce.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** PostgreSQL text and jsonb refuse NUL and unpaired surrogates; refuse them here as 400 instead. */
export function storableString(value: string): boolean {
  return !value.includes("\u0000") && !LONE_SURROGATE.test(value);
}

export const MAX_JSON_DEPTH = 32;

/** A JSON value PostgreSQL's jsonb accepts: storable strings and keys, nesting depth bounded. */
export function storableJson(value: unknown): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof current === "string") {
      if (!storableString(current)) return false;
    } else if (typeof current === "number") {
      if (!Number.isFinite(current)) return false;
    } else if (current !== null && typeof current === "object") {
      if (depth >= MAX_JSON_DEPTH) return false;
      const entries = Array.isArray(current) ? current : Object.entries(current);
      for (const entry of entries) {
        if (Array.isArray(current)) {
          stack.push({ value: entry, depth: depth + 1 });
        } else {
          const [key, inner] = entry as [string, unknown];
          if (!storableString(key)) return false;
          stack.push({ value: inner, depth: depth + 1 });
        }
      }
    } else if (typeof current !== "boolean" && current !== null) {
      return false;
    }
  }
  return true;
}

/**
 * Characters PostgreSQL text stores, as a JSON Schema pattern: no NUL and no unpaired surrogate
 * (with the `u` flag, which JSON Schema patterns use, a paired surrogate is one code point).
 */
const STORABLE = String.raw`[^\u0000\p{Cs}]`;
const WHITESPACE = String.raw`\s`;
const STORABLE_VISIBLE = String.raw`[^\s\u0000\p{Cs}]`;

/** Code points, as JSON Schema's maxLength counts them (a surrogate pair is one). */
const codePoints = (value: string) => {
  let count = 0;
  for (const _ of value) count++;
  return count;
};

const STORABLE_TEXT = new RegExp(`^${STORABLE}*$`, "u");

// The patterns are given to the document by hand: the generator would write a `u`-flagged
// regular expression as `source/u`, which no validator reads as meant.
const text = (max: number) =>
  z
    .string()
    .refine((value) => codePoints(value) <= max, `must be at most ${max} characters`)
    .regex(STORABLE_TEXT, "must not contain NUL characters or unpaired surrogates")
    .openapi({ maxLength: max, pattern: STORABLE_TEXT.source });

/** Ids this API hands out (cuid2); anything else is not an id of ours. */
export const ID_PATTERN = /^[a-z0-9]{1,64}$/;
export const idString = z.string().regex(ID_PATTERN, "is not an id");

/** A job's input: any JSON value but null (which the driver would store as SQL NULL). */
export const jsonValue = z
  .unknown()
  .refine((v) => v !== undefined, "is required")
  .refine((v) => v !== null, "may not be null")
  .refine(
    storableJson,
    `must be JSON nested at most ${MAX_JSON_DEPTH} deep, without NUL characters`,
  )
  .openapi({
    description: `any JSON value but null, nested at most ${MAX_JSON_DEPTH} deep, without NUL characters or unpaired surrogates in its strings and keys`,
    not: { type: "null" },
  });

/** A JSON value a response always carries (null included). */
const anyJson = z
  .unknown()
  .refine((v) => v !== undefined, "is required")
  .openapi({ description: "any JSON value" });

/**
 * A registered schema or null, as `anyOf: [{$ref}, {type: null}]`; `.nullable()` on a registered
 * schema gives `allOf: [{$ref}, {type: [object, null]}]`, which null can never satisfy.
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

const timestamp = z.string().openapi({ format: "date-time", example: "2025-01-01T12:00:00.000Z" });
const nullableTimestamp = timestamp.nullable();

/**
 * A human reason: 1 to REASON_TEXT_MAX characters once trimmed, stored trimmed. The pattern says
 * it all (leading blanks, a visible first and last character, trailing blanks), so the document
 * states exactly what the server accepts; a value over twice the limit is refused untrimmed.
 */
export const REASON_TEXT_PATTERN = new RegExp(
  `^${WHITESPACE}*${STORABLE_VISIBLE}(?:${STORABLE}{0,${REASON_TEXT_MAX - 2}}${STORABLE_VISIBLE})?${WHITESPACE}*$`,
  "u",
);
const reasonText = () =>
  z
    .string()
    .refine(
      (value) => codePoints(value) <= REASON_TEXT_MAX * 2,
      `must be at most ${REASON_TEXT_MAX * 2} characters`,
    )
    .regex(
      REASON_TEXT_PATTERN,
      `must be 1 to ${REASON_TEXT_MAX} characters once trimmed, without NUL characters or unpaired surrogates`,
    )
    .trim()
    .openapi({ maxLength: REASON_TEXT_MAX * 2, pattern: REASON_TEXT_PATTERN.source });

const expiresInHours = z
  .number()
  .int()
  .min(1)
  .max(MAX_INTENT_TTL_HOURS)
  .openapi({ description: "how long the approval stays executable; default INTENT_TTL_HOURS" });

const instant = z
  .string()
  .regex(
    INSTANT_PATTERN,
    "must be an RFC 3339 instant with seconds and an offset, years 0002 to 9998",
  )
  .refine(calendarDay, "is not a day of the calendar")
  .openapi({ format: "date-time", example: "2025-01-01T12:00:00Z" });

/**
 * Error codes as the worker and generators write them (DEMO_FAILURE, HTTP_STATUS_503…); the
 * domain's filter check holds them to the same shape.
 */
const ERROR_CODE_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

export const RetryBatchFilterSchema = z
  .strictObject({
    generator: z.string().regex(GENERATOR_NAME, "is not a generator name").optional(),
    errorCode: z.string().regex(ERROR_CODE_PATTERN, "is not an error code").optional(),
    failedAfter: instant
      .optional()
      .openapi({ description: "jobs that failed at or after this instant (`finishedAt`)" }),
    failedBefore: instant
      .optional()
      .openapi({ description: "jobs that failed before this instant (`finishedAt`)" }),
    generatorVersion: z
      .string()
      .regex(GENERATOR_VERSION, "is not a generator version")
      .optional()
      .openapi({ description: "SUPERSEDE only: jobs whose output this version made" }),
    completedAfter: instant.optional().openapi({
      description: "SUPERSEDE only: jobs that completed at or after this instant (`finishedAt`)",
    }),
    completedBefore: instant.optional().openapi({
      description: "SUPERSEDE only: jobs that completed before this instant (`finishedAt`)",
    }),
  })
  .refine(
    (filter) =>
      !(filter.failedAfter && filter.failedBefore) ||
      Date.parse(filter.failedAfter) < Date.parse(filter.failedBefore),
    { message: "must be later than failedAfter", path: ["failedBefore"] },
  )
  .refine(
    (filter) =>
      !(filter.completedAfter && filter.completedBefore) ||
      Date.parse(filter.completedAfter) < Date.parse(filter.completedBefore),
    { message: "must be later than completedAfter", path: ["completedBefore"] },
  )
  .openapi("RetryBatchFilter", {
    description:
      "which jobs without a successor: FAILED ones for a RETRY batch (generator, errorCode, failedAfter, failedBefore), COMPLETED ones for a SUPERSEDE batch (generator, generatorVersion, completedAfter, completedBefore); every field narrows, none means all of them, and a field of the other kind is refused",
  });

export const IntentKindSchema = z.enum(retryIntentKind.enumValues).openapi({
  description:
    "RETRY a FAILED job (the default), or SUPERSEDE a COMPLETED one: a new job replaces its result; the old job and output stay as they are",
});

export const JobStatusSchema = z.enum(jobStatus.enumValues);

export const LatestJobSchema = z
  .object({ jobId: z.string(), status: JobStatusSchema })
  .openapi("LatestJob", {
    description:
      "the newest job of this job's chain of retries and supersessions (this job itself when it has no successor): where its current output is",
  });

export const GeneratorVersionsSchema = z
  .object({
    source: z.string().nullable().openapi({
      description:
        "the generator version the job ran under (its output's, or its failure's); null when nothing says",
    }),
    current: z.string().nullable().openapi({
      description: "the version a new job of its generator runs under now (the catalog's)",
    }),
  })
  .openapi("GeneratorVersions");
export const IntentStatusSchema = z.enum(retryIntentStatus.enumValues);
export const ReasonCodeSchema = z.enum(retryReasonCode.enumValues);

export const JobSchema = z
  .object({
    id: z.string(),
    generator: z.string(),
    input: anyJson,
    status: JobStatusSchema,
    retryOfJobId: z.string().nullable(),
    retryIntentId: z.string().nullable(),
    createdBy: z.string(),
    createdAt: timestamp,
    claimedBy: z.string().nullable(),
    claimedAt: nullableTimestamp,
    leaseExpiresAt: nullableTimestamp,
    finishedAt: nullableTimestamp,
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        generatorVersion: z
          .string()
          .optional()
          .openapi({ description: "the generator version that failed, when one ran" }),
      })
      .nullable(),
  })
  .openapi("Job");

export const OutputSchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    content: anyJson,
    contentSha256: z.string(),
    generatorVersion: z.string(),
    createdAt: timestamp,
  })
  .openapi("Output");

export const RetryIntentSchema = z
  .object({
    id: z.string(),
    sourceJobId: z.string(),
    sourceOutputRef: z.string().nullable(),
    kind: IntentKindSchema,
    input: anyJson.nullable().openapi({
      description: "the corrected input the new job runs with; null: the source's input, unchanged",
    }),
    reasonCode: ReasonCodeSchema,
    reasonText: z.string(),
    approvedBy: z.string(),
    approvedAt: timestamp,
    status: IntentStatusSchema,
    createdAt: timestamp,
    consumedBy: z.string().nullable(),
    consumedAt: nullableTimestamp,
    rejectedBy: z.string().nullable(),
    rejectedAt: nullableTimestamp,
    rejectionText: z.string().nullable(),
    batchId: z
      .string()
      .nullable()
      .openapi({ description: "the retry batch that approved it, if any" }),
    budgetOverride: z
      .boolean()
      .openapi({ description: "approved past the chain's retry budget (reason code OTHER)" }),
    expiresAt: timestamp.openapi({
      description: "after this it can no longer be executed; the worker then rejects it",
    }),
  })
  .openapi("RetryIntent");

export const AuditEventSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(AUDIT_TYPES),
    actor: z.string(),
    subjectType: z.string(),
    subjectId: z.string(),
    data: z.record(z.string(), z.unknown()),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    createdAt: timestamp,
  })
  .openapi("AuditEvent");

export const RetryBatchSchema = z
  .object({
    id: z.string(),
    filter: RetryBatchFilterSchema,
    kind: IntentKindSchema,
    reasonCode: ReasonCodeSchema,
    reasonText: z.string(),
    approvedBy: z.string(),
    approvedAt: timestamp,
    jobCount: z.number().int().openapi({ description: "intents the batch approved, one per job" }),
    createdAt: timestamp,
  })
  .openapi("RetryBatch");

export const RetryBatchCountsSchema = z
  .object({
    pending: z.number().int(),
    consumed: z.number().int(),
    rejected: z.number().int(),
  })
  .openapi("RetryBatchCounts", { description: "the batch's intents by status" });

export const RetryBatchOutcomesSchema = z
  .object({
    pending: z.number().int(),
    running: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
  })
  .openapi("RetryBatchOutcomes", {
    description:
      "the jobs the batch's executed intents created, by their status now: while pending or running is above 0, the batch's work is unfinished",
  });

export const RetryBatchIntentSchema = RetryIntentSchema.extend({
  resultingJobId: z
    .string()
    .nullable()
    .openapi({ description: "the job executing it created; null until then" }),
}).openapi("RetryBatchIntent");

export const RetryBatchPreviewJobSchema = z
  .object({
    id: z.string(),
    errorCode: z
      .string()
      .nullable()
      .openapi({ description: "the failure's `error.code`; null in a SUPERSEDE preview" }),
    errorMessage: z
      .string()
      .nullable()
      .openapi({ description: "the failure's `error.message`; null in a SUPERSEDE preview" }),
    failedAt: nullableTimestamp.openapi({
      description: "when it failed (`finishedAt`); null in a SUPERSEDE preview",
    }),
    completedAt: nullableTimestamp.openapi({
      description: "when it completed (`finishedAt`), in a SUPERSEDE preview; null in a RETRY one",
    }),
  })
  .openapi("RetryBatchPreviewJob");

export const RetryBatchPreviewSchema = z
  .object({
    count: z.number().int(),
    jobIds: z
      .array(z.string())
      .openapi({ description: "the jobs a batch approved now would hold, sorted" }),
    jobs: z.array(RetryBatchPreviewJobSchema).openapi({
      description: "the same jobs in the same order, each with what it failed with and when",
    }),
    byErrorCode: z.record(z.string(), z.number().int()).openapi({
      description:
        "how many of the jobs failed with each error code, e.g. { HTTP_TIMEOUT: 12 }; {} in a SUPERSEDE preview",
    }),
    previewToken: z.string().openapi({
      description:
        "names exactly this set of jobs, for this filter and kind on this database, for an hour: made with a key only the database holds, so it cannot be computed, only previewed; approval is refused (BATCH_PREVIEW_STALE) if the set has changed or the hour has passed",
    }),
    excluded: z
      .object({
        overBudget: z.number().int(),
        pendingIntent: z.number().int(),
        rejected: z.number().int().openapi({
          description:
            "RETRY: failed jobs whose newest intent a person rejected; that was a decision, which a batch does not undo (an intent that expired decided nothing). Always 0 for SUPERSEDE",
        }),
      })
      .openapi({
        description:
          "jobs the filter matches that a batch leaves out: their chain used its retry budget, an intent already waits for them, or a person rejected retrying them",
      }),
  })
  .openapi("RetryBatchPreview");

const JsonSchemaDocument = z
  .union([z.record(z.string(), z.unknown()), z.boolean()])
  .openapi({ description: "a JSON Schema (draft 2020-12)" });

export const GeneratorVersionSchema = z
  .object({
    version: z.string(),
    inputSchema: JsonSchemaDocument.openapi({
      description: "what a job's input must be, as JSON Schema (draft 2020-12)",
    }),
    schemaSha256: z.string().openapi({ description: "SHA-256 (hex) of the schema as stored" }),
    publishedBy: z.string(),
    publishedAt: timestamp,
  })
  .openapi("GeneratorVersion");

export const GeneratorSchema = z
  .object({
    name: z.string(),
    version: z.string().openapi({ description: "the version new jobs run under" }),
    inputSchema: JsonSchemaDocument.openapi({
      description:
        "the current version's input schema (JSON Schema, draft 2020-12): POST /api/jobs refuses an input it does not match",
    }),
    paused: z.boolean().openapi({
      description: "while paused, its jobs are accepted and wait PENDING: no worker claims them",
    }),
    pausedAt: nullableTimestamp,
    pausedBy: z.string().nullable(),
    pauseReason: z.string().nullable(),
  })
  .openapi("Generator");

export const GeneratorDetailSchema = GeneratorSchema.extend({
  versions: z
    .array(GeneratorVersionSchema)
    .openapi({ description: "every version it published, newest first" }),
}).openapi("GeneratorDetail");

export const LineageEntrySchema = z
  .object({
    depth: z.number().int().openapi({ description: "0 for the original job, 1 for its retry…" }),
    job: JobSchema,
  })
  .openapi("LineageEntry");

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "pass as `cursor` for the next page; null on the last page" }),
  });

// Requests

export const SubmitJobBody = z
  .strictObject({
    generator: z
      .string()
      .regex(GENERATOR_NAME, "is a lower-case name of 1 to 64 characters (letters, digits, . _ -)")
      .openapi({ example: "demo" }),
    input: jsonValue.openapi({ example: { text: "hello", failAttempts: 1 } }),
  })
  .openapi("SubmitJob");

export const CreateRetryIntentBody = z
  .strictObject({
    sourceJobId: idString,
    kind: IntentKindSchema.optional(),
    input: jsonValue.optional().openapi({
      description:
        "a corrected input for the new job, instead of the source's: only with reason code BAD_INPUT, IMPROVED_PROMPT or OTHER, and it must match the current input schema of the source's generator",
    }),
    reasonCode: ReasonCodeSchema,
    reasonText: reasonText().openapi({ example: "the model endpoint timed out" }),
    sourceOutputRef: text(OUTPUT_REF_MAX).nullable().optional(),
    overrideBudget: z.boolean().optional().openapi({
      description:
        "approve past the chain's retry budget (RETRY_BUDGET); only with reason code OTHER",
    }),
    expiresInHours: expiresInHours.optional(),
  })
  .openapi("CreateRetryIntent");

export const RejectRetryIntentBody = z
  .strictObject({ reasonText: reasonText() })
  .openapi("RejectRetryIntent");

export const PreviewRetryBatchBody = z
  .strictObject({ kind: IntentKindSchema.optional(), filter: RetryBatchFilterSchema })
  .openapi("PreviewRetryBatch");

export const CreateRetryBatchBody = z
  .strictObject({
    kind: IntentKindSchema.optional(),
    filter: RetryBatchFilterSchema,
    previewToken: z
      .string()
      .regex(/^[0-9]{1,12}\.[0-9a-f]{64}$/, "is not a preview token")
      .openapi({
        description:
          "the `previewToken` of the preview being approved, within the hour it was made",
      }),
    jobIds: z.array(idString).min(1).max(MAX_RETRY_BATCH_MAX).optional().openapi({
      description:
        "approve only these jobs, chosen from the preview's `jobIds` (a repeated id counts once); without it, the whole previewed set. An id the preview does not hold is 409 BATCH_PREVIEW_STALE with `details.outside`, and nothing is written",
    }),
    reasonCode: ReasonCodeSchema,
    reasonText: reasonText().openapi({ example: "the model endpoint was down 14:00-14:20" }),
    expiresInHours: expiresInHours.optional(),
  })
  .openapi("CreateRetryBatch");

export const GeneratorReasonBody = z
  .strictObject({ reasonText: reasonText().openapi({ example: "the upstream model is down" }) })
  .openapi("GeneratorReason");

export const GeneratorParams = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: "name", in: "path" }, example: "demo" }),
});

export const RejectRetryBatchBody = z
  .strictObject({ reasonText: reasonText() })
  .openapi("RejectRetryBatch");

/** `limit` as digits only (no `1e2`, no `0x10`), 1..MAX_PAGE_SIZE, default 50. */
export const limitParam = z
  .string()
  .regex(/^[0-9]{1,4}$/, "is a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE))
  .optional()
  .openapi({
    type: "integer",
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: 50,
    description: `page size, 1 to ${MAX_PAGE_SIZE}`,
  });

export const cursorParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,300}$/, "is not a cursor this API issued")
  .optional()
  .openapi({ description: "the `nextCursor` of the previous page" });

export const DEFAULT_PAGE_SIZE = 50;

export const JobListQuery = z
  .strictObject({
    status: JobStatusSchema.optional(),
    generator: z.string().regex(GENERATOR_NAME, "is not a generator name").optional(),
    open: z
      .enum(["true", "false"], "is true or false")
      .transform((value) => value === "true")
      .optional()
      .openapi({
        type: "boolean",
        description:
          "true: only the open failures, the FAILED jobs that need a decision (newest of their chain, no intent pending, and the newest intent not rejected by a person; one that expired decided nothing); false: every job but those",
      }),
    errorCode: z
      .string()
      .regex(ERROR_CODE_PATTERN, "is not an error code")
      .optional()
      .openapi({ description: "FAILED jobs whose `error.code` is this" }),
    failedAfter: instant
      .optional()
      .openapi({ description: "FAILED jobs that failed at or after this instant (`finishedAt`)" }),
    failedBefore: instant
      .optional()
      .openapi({ description: "FAILED jobs that failed before this instant (`finishedAt`)" }),
    limit: limitParam,
    cursor: cursorParam,
  })
  .refine(
    (query) =>
      !(query.failedAfter && query.failedBefore) ||
      Date.parse(query.failedAfter) < Date.parse(query.failedBefore),
    { message: "must be later than failedAfter", path: ["failedBefore"] },
  );

export const IntentListQuery = z.strictObject({
  jobId: idString.optional(),
  status: IntentStatusSchema.optional(),
  limit: limitParam,
  cursor: cursorParam,
});

export const BatchListQuery = z.strictObject({
  limit: limitParam,
  cursor: cursorParam,
});

export const AuditListQuery = z
  .strictObject({
    subjectId: z
      .string()
      .regex(/^[A-Za-z0-9_.:@-]{1,200}$/, "is not a subject id")
      .optional(),
    type: z.enum(AUDIT_TYPES).optional(),
    actor: z
      .string()
      .min(1)
      .max(200)
      .refine((actor) => !/\p{Cc}/u.test(actor), "has a control character")
      .optional()
      .openapi({
        description:
          "who acted: as recorded (`token:<id>`, `access:<email>`, `worker:…`, `system`), an Access identity's email, or a token's name; no control characters",
      }),
    after: instant.optional().openapi({ description: "events recorded at or after this instant" }),
    before: instant.optional().openapi({ description: "events recorded before this instant" }),
    limit: limitParam,
    cursor: cursorParam,
  })
  .refine(
    (query) => !(query.after && query.before) || Date.parse(query.after) < Date.parse(query.before),
    { message: "must be later than after", path: ["before"] },
  );

export const IdParams = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: "id", in: "path" }, example: "tz4a98xxat96iws9zmbrgj3a" }),
});

export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "is 1 to 255 printable ASCII characters")
    .optional()
    .openapi({
      description:
        "repeat a request with the same key and body to get the first response again instead of a second creation",
    }),
});
