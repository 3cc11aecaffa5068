import type { z } from "@hono/zod-openapi";
import type { AuditEvent, Job, Output, RetryBatch, RetryIntent } from "../../db/schema";
import type { AuditType } from "../domain/audit";
import type { CatalogEntry, GeneratorDetail } from "../domain/generators";
import type { LineageEntry } from "../domain/jobs";
import type { Page } from "../domain/pagination";
import type {
  AuditEventSchema,
  GeneratorDetailSchema,
  GeneratorSchema,
  GeneratorVersionSchema,
  JobSchema,
  LineageEntrySchema,
  OutputSchema,
  RetryBatchIntentSchema,
  RetryBatchSchema,
  RetryIntentSchema,
} from "./schemas";

/** Database rows as the API shows them: camelCase fields, ISO-8601 timestamps, no internals. */

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export function jobJson(job: Job): z.infer<typeof JobSchema> {
  return {
    id: job.id,
    generator: job.generator,
    input: job.input as NonNullable<unknown> | null,
    status: job.status,
    retryOfJobId: job.retryOfJobId,
    retryIntentId: job.retryIntentId,
    createdBy: job.createdBy,
    createdAt: iso(job.createdAt),
    claimedBy: job.claimedBy,
    claimedAt: isoOrNull(job.claimedAt),
    leaseExpiresAt: isoOrNull(job.leaseExpiresAt),
    finishedAt: isoOrNull(job.finishedAt),
    error: job.error ? errorJson(job.error) : null,
  };
}

/**
 * A job's error as its schema documents it. What the service answered (`upstream`) is left
 * out: it may quote the service's data, and a job's submitter and viewers read this.
 */
function errorJson({ upstream: _, ...error }: NonNullable<Job["error"]>) {
  return error;
}

export function outputJson(output: Output): z.infer<typeof OutputSchema> {
  return {
    id: output.id,
    jobId: output.jobId,
    content: output.content as NonNullable<unknown> | null,
    contentSha256: output.contentSha256,
    generatorVersion: output.generatorVersion,
    createdAt: iso(output.createdAt),
  };
}

/**
 * A row the API shows column for column, its timestamps as ISO-8601 text. Its schema (schemas.ts)
 * names the same fields: a unit test holds the two to each other, so a column is never answered
 * undocumented.
 */
type Shown<Row> = {
  [K in keyof Row]: Row[K] extends Date
    ? string
    : Row[K] extends Date | null
      ? string | null
      : Row[K];
};

function shown<Row extends Record<string, unknown>>(row: Row): Shown<Row> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [key, value instanceof Date ? iso(value) : value]),
  ) as Shown<Row>;
}

export function intentJson(intent: RetryIntent): z.infer<typeof RetryIntentSchema> {
  const row = shown(intent);
  // A corrected input is any JSON value but null; null says the source's input is kept.
  return { ...row, input: (intent.input ?? null) as NonNullable<unknown> | null };
}

export function batchIntentJson(
  intent: RetryIntent & { resultingJobId: string | null },
): z.infer<typeof RetryBatchIntentSchema> {
  return { ...intentJson(intent), resultingJobId: intent.resultingJobId };
}

export function batchJson(batch: RetryBatch): z.infer<typeof RetryBatchSchema> {
  return shown(batch);
}

export function auditEventJson(event: AuditEvent): z.infer<typeof AuditEventSchema> {
  return {
    id: Number(event.id),
    type: event.type as AuditType,
    actor: event.actor,
    subjectType: event.subjectType,
    subjectId: event.subjectId,
    data: event.data,
    requestId: event.requestId,
    ip: event.ip,
    userAgent: event.userAgent,
    createdAt: iso(event.createdAt),
  };
}

export function lineageJson(entry: LineageEntry): z.infer<typeof LineageEntrySchema> {
  return { depth: entry.depth, job: jobJson(entry.job) };
}

export function pageJson<T, U>(page: Page<T>, item: (row: T) => U) {
  return { items: page.items.map(item), nextCursor: page.nextCursor };
}

export function generatorJson({
  generator,
  version,
}: CatalogEntry): z.infer<typeof GeneratorSchema> {
  return {
    name: generator.name,
    version: generator.currentVersion,
    inputSchema: version.inputSchema as z.infer<typeof GeneratorSchema>["inputSchema"],
    paused: generator.pausedAt !== null,
    pausedAt: isoOrNull(generator.pausedAt),
    pausedBy: generator.pausedBy,
    pauseReason: generator.pauseReason,
  };
}

export function generatorVersionJson(
  version: GeneratorDetail["version"],
): z.infer<typeof GeneratorVersionSchema> {
  return {
    version: version.version,
    inputSchema: version.inputSchema as z.infer<typeof GeneratorVersionSchema>["inputSchema"],
    schemaSha256: version.schemaSha256,
    publishedBy: version.publishedBy,
    publishedAt: iso(version.publishedAt),
  };
}

export function generatorDetailJson(
  detail: GeneratorDetail,
): z.infer<typeof GeneratorDetailSchema> {
  return { ...generatorJson(detail), versions: detail.versions.map(generatorVersionJson) };
}
