import { z } from "zod";
import type { UpstreamAnswer } from "../../../db/schema";
import { type Generator, GeneratorError } from "./registry";

/** Any JSON value: the http generator sends the input as it is. */
const HttpInput = z.unknown().describe("any JSON value: POSTed as it is to HTTP_GENERATOR_URL");

export interface HttpGeneratorConfig {
  /** HTTP_GENERATOR_URL. Never taken from a job's input: jobs choose what to send, not where. */
  url?: string | undefined;
  /** HTTP_GENERATOR_TIMEOUT_MS: for the whole exchange, response body included. */
  timeoutMs: number;
  /** HTTP_GENERATOR_HEADERS, e.g. an Authorization header for the remote service. */
  headers?: Readonly<Record<string, string>>;
  /** For runtimes or tests that bring their own. */
  fetch?: typeof fetch;
  /**
   * Receives a JSON line for operators when the service's answer or the runtime's error is
   * what explains a failure: the job's error cannot quote either, its submitter reads it.
   * Default console.warn.
   */
  log?: (line: string) => void;
}

/** Larger answers are refused rather than stored: an output is a row, not a blob store. */
export const MAX_RESPONSE_CHARS = 1_000_000;
/** How much of a refused answer the operators' log quotes (the job's error keeps more). */
const EXCERPT_CHARS = 300;
/**
 * How much is read and redacted before an excerpt is cut: a credential that starts just before
 * the cut must be whole when it is blanked out, or its first characters would remain.
 */
const REDACT_WINDOW_CHARS = 16_384;

/**
 * POSTs the job's input as JSON to the configured URL and stores the JSON it answers.
 * The job id goes along in `Regent-Job-Id`, so the remote side can recognise a job it has
 * seen. A redirect → HTTP_REDIRECT_REFUSED (never followed: it would re-send the input and
 * the configured headers to wherever `Location` says); non-2xx → HTTP_STATUS_<status>; no
 * answer within the timeout → HTTP_TIMEOUT; a network failure → HTTP_ERROR; an answer that is
 * not JSON, or longer than MAX_RESPONSE_CHARS → HTTP_INVALID_RESPONSE.
 *
 * The job's error message is shown to whoever submitted the job, so it says only what Regent
 * knows for sure (a status, a limit, an error code). What the service answered goes beside it
 * in the error's `upstream` (status line, Content-Type, the body's beginning when it is text),
 * which only admins read, and to the operators' log, short and printable; what the runtime said
 * goes to the log alone. Both have the configured credentials blanked out: a service that
 * echoes its request must not hand them to a reader.
 */
export function httpGenerator(config: HttpGeneratorConfig): Generator {
  const doFetch = config.fetch ?? ((input, init) => fetch(input, init));
  const log = config.log ?? ((line: string) => console.warn(line));
  const blank = blanker(config);
  const redact = (text: string) => printable(blank(text));
  /** What the service answered, for the job's error: its body only when it is text. */
  const answerOf = (response: Response, body: { text: string; complete: boolean }) => {
    const contentType = response.headers.get("content-type");
    const quoted = isText(contentType);
    return {
      status: response.status,
      statusText: response.statusText,
      contentType,
      excerpt: quoted ? blank(body.text) : null,
      truncated: quoted && (!body.complete || body.text.length > REDACT_WINDOW_CHARS),
    } satisfies UpstreamAnswer;
  };
  return {
    name: "http",
    version: "http@1",
    inputSchema: HttpInput,
    // One POST a run: a redirect is refused, never followed.
    subrequests: 1,
    async run(input, ctx) {
      if (!config.url) {
        throw new GeneratorError("HTTP_NOT_CONFIGURED", "HTTP_GENERATOR_URL is not set");
      }
      const report = (code: string, facts: Record<string, unknown>) =>
        log(
          JSON.stringify({
            level: "warn",
            event: "worker.http_generator",
            jobId: ctx.job.id,
            code,
            ...facts,
          }),
        );
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, config.timeoutMs);
      const onJobAbort = () => controller.abort(ctx.signal.reason);
      if (ctx.signal.aborted) onJobAbort();
      else ctx.signal.addEventListener("abort", onJobAbort, { once: true });
      try {
        const response = await doFetch(config.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            ...config.headers,
            "regent-job-id": ctx.job.id,
          },
          body: JSON.stringify(input ?? null),
          signal: controller.signal,
          redirect: "manual",
        });
        // A browser-like fetch hides a manual redirect behind status 0 and this type.
        if (response.type === "opaqueredirect" || isRedirect(response.status)) {
          await discard(response);
          report("HTTP_REDIRECT_REFUSED", {
            status: response.status,
            location: originOf(response.headers.get("location"), config.url),
          });
          throw new GeneratorError(
            "HTTP_REDIRECT_REFUSED",
            `the generator service answered ${response.status} (a redirect), which is never followed: HTTP_GENERATOR_URL must name the final address`,
          );
        }
        if (!response.ok) {
          const body = await readText(response, REDACT_WINDOW_CHARS, controller);
          const code = `HTTP_STATUS_${response.status}`;
          report(code, { status: response.status, excerpt: redact(body.text) });
          throw new GeneratorError(
            code,
            `the generator service answered ${response.status}`,
            answerOf(response, body),
          );
        }
        const body = await readText(response, MAX_RESPONSE_CHARS, controller);
        if (!body.complete) {
          throw new GeneratorError(
            "HTTP_INVALID_RESPONSE",
            `the generator service answered more than ${MAX_RESPONSE_CHARS} characters`,
            answerOf(response, body),
          );
        }
        try {
          return JSON.parse(body.text) as unknown;
        } catch {
          report("HTTP_INVALID_RESPONSE", { excerpt: redact(body.text) });
          throw new GeneratorError(
            "HTTP_INVALID_RESPONSE",
            `the generator service answered ${body.text.length} characters that are not JSON`,
            answerOf(response, body),
          );
        }
      } catch (error) {
        if (error instanceof GeneratorError) throw error;
        if (timedOut) {
          throw new GeneratorError(
            "HTTP_TIMEOUT",
            `the generator service did not answer within ${config.timeoutMs} ms`,
          );
        }
        // The job's own timeout aborted us; the worker reports that.
        if (ctx.signal.aborted) throw error;
        // The runtime's message may quote the URL (with its credentials) or a header value.
        const code = errorCodeOf(error);
        report("HTTP_ERROR", { error: redact(describe(error)) });
        throw new GeneratorError(
          "HTTP_ERROR",
          `the generator service could not be reached${code ? ` (${code})` : ""}`,
        );
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onJobAbort);
      }
    },
  };
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** Where a refused redirect pointed, for the operator: scheme, host and port, never a path or query. */
function originOf(location: string | null, base: string): string | undefined {
  if (!location) return undefined;
  try {
    return new URL(location, base).origin;
  } catch {
    return "(not a URL)";
  }
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/**
 * Reads the body as text until it ends or passes `limit` characters, whichever comes first;
 * past the limit the stream is cancelled and the exchange aborted, so an endless or huge
 * answer costs the limit and one chunk of memory, not its size. Web streams only: the same code
 * runs in Workers.
 */
async function readText(
  response: Response,
  limit: number,
  controller: AbortController,
): Promise<{ text: string; complete: boolean }> {
  if (!response.body) return { text: "", complete: true };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.length > limit) {
      await reader.cancel().catch(() => {});
      controller.abort();
      return { text: text.slice(0, limit), complete: false };
    }
  }
  text += decoder.decode();
  return text.length > limit
    ? { text: text.slice(0, limit), complete: false }
    : { text, complete: true };
}

/** A machine code such as ECONNREFUSED from the error or its cause: it cannot carry a secret. */
function errorCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 3; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && /^[A-Z][A-Z0-9_]{1,39}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}

/**
 * Whether a Content-Type names text, whose beginning a failure keeps: text/*, JSON and XML (with
 * their `+json`, `+xml` kinds). An answer that names no type is read as text too; an image or
 * an archive is not quoted.
 */
function isText(contentType: string | null): boolean {
  if (contentType === null) return true;
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return type.startsWith("text/") || /^[a-z0-9.+-]+\/([a-z0-9.-]+\+)?(json|xml)$/.test(type);
}

/** Short and printable, so a log line cannot be forged or flooded. */
function printable(text: string): string {
  const out = text.replace(/[^\x20-\x7e]/g, "?");
  return out.length > EXCERPT_CHARS ? `${out.slice(0, EXCERPT_CHARS)}…` : out;
}

/**
 * Blanks out, in the first REDACT_WINDOW_CHARS of a text (the rest is dropped), what the
 * configuration holds that could be a credential: the header values (and each long word of
 * one, such as the token after "Bearer"), the URL's user, password and query.
 */
function blanker(config: HttpGeneratorConfig): (text: string) => string {
  const secrets = new Set<string>();
  for (const value of Object.values(config.headers ?? {})) {
    secrets.add(value);
    for (const word of value.split(/[\s,;]+/)) if (word.length >= 8) secrets.add(word);
  }
  if (config.url) {
    try {
      const url = new URL(config.url);
      for (const part of [url.username, url.password, url.search.slice(1)]) {
        secrets.add(part);
        secrets.add(decodeURIComponentSafe(part));
      }
    } catch {
      secrets.add(config.url);
    }
  }
  const ordered = [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.slice(0, REDACT_WINDOW_CHARS);
    for (const secret of ordered) out = out.replaceAll(secret, "[redacted]");
    return out;
  };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
