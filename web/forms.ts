/** What the admin page's handlers share: reading forms, success notices, links, statuses. */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError } from "../functions/domain/errors";
import { STATUS_BY_CODE } from "../functions/http/errors";
import { type AdminContext, adminPath } from "./context";

/** The API's own code → status table, so a refusal means the same thing everywhere. */
export const statusOf = (error: DomainError): ContentfulStatusCode => STATUS_BY_CODE[error.code];

/** Success messages, chosen by a fixed key in the redirect so no text travels in the URL. */
const NOTICES: Record<string, string> = {
  "intent-created":
    "Retry intent created. It is PENDING: execute it to create the retry job, or reject it.",
  "supersede-intent-created":
    "Supersede intent created. It is PENDING: execute it to create the new job, or reject it. The completed job and its output stay as they are.",
  "intent-rejected": "Retry intent rejected. The job can still be retried through a new intent.",
  "retry-created":
    "Retry job created from the intent. The worker will run it like any other job; the failed job is unchanged.",
  "supersede-created":
    "New job created from the supersede intent. The worker will run it like any other job; the completed job and its output are unchanged.",
  "batch-created":
    "Retry batch approved. Its intents are PENDING: execute the batch to create the retry jobs, or reject it.",
  "generator-paused":
    "Generator paused. Its jobs wait PENDING and no worker claims them until it is resumed; jobs that were running finish.",
  "generator-resumed":
    "Generator resumed. Its waiting jobs can be claimed again, and the worker has been woken.",
};
export type NoticeKey = keyof typeof NOTICES;

export const noticeOf = (c: AdminContext): string | undefined =>
  NOTICES[c.req.query("notice") ?? ""];

/**
 * The corrected input typed into a retry or supersede form: undefined when the box was left
 * empty (or says `null`, which the domain reads as "unchanged" too). Text that is not JSON is
 * refused here, VALIDATION_FAILED, before anything is asked of the database.
 */
export function correctedInput(text: string): unknown {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `the corrected input is not valid JSON (${error instanceof Error ? error.message : "unreadable"}); nothing was recorded`,
      { field: "input" },
    );
  }
  return value === null ? undefined : value;
}

/** Form fields arrive as strings or files; anything but a string counts as missing. */
export function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === "string" ? value : "";
}

export const jobHref = (id: string) => adminPath(`/jobs/${encodeURIComponent(id)}`);
export const intentHref = (id: string) => adminPath(`/retry-intents/${encodeURIComponent(id)}`);
export const batchHref = (id: string, rest = "") =>
  adminPath(`/retry-batches/${encodeURIComponent(id)}${rest}`);
/** A generator's pause or resume confirmation. */
export const brakeHref = (name: string, brake: "pause" | "resume") =>
  adminPath(`/generators/${encodeURIComponent(name)}/${brake}`);

/** Opaque list cursors and filters travel in the query; an empty value means none. */
export const queryValue = (c: AdminContext, name: string): string | undefined =>
  c.req.query(name) || undefined;
