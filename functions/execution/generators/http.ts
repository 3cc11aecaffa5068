import { type Generator, GeneratorError } from "./registry";

export interface HttpGeneratorConfig {
  /** HTTP_GENERATOR_URL. Never taken from a job's input: jobs choose what to send, not where. */
  url?: string | undefined;
  /** HTTP_GENERATOR_TIMEOUT_MS: for the whole exchange, response body included. */
  timeoutMs: number;
  /** HTTP_GENERATOR_HEADERS, e.g. an Authorization header for the remote service. */
  headers?: Readonly<Record<string, string>>;
  /** For runtimes or tests that bring their own. */
  fetch?: typeof fetch;
}

/** Larger answers are refused rather than stored: an output is a row, not a blob store. */
const MAX_RESPONSE_CHARS = 1_000_000;
const DETAIL_CHARS = 300;

/**
 * POSTs the job's input as JSON to the configured URL and stores the JSON it answers.
 * The job id goes along in `Regent-Job-Id`, so the remote side can recognise a job it has
 * seen. Non-2xx → HTTP_STATUS_<status>; no answer within the timeout → HTTP_TIMEOUT; a
 * network failure → HTTP_ERROR; an answer that is not JSON → HTTP_INVALID_RESPONSE.
 */
export function httpGenerator(config: HttpGeneratorConfig): Generator {
  const doFetch = config.fetch ?? ((input, init) => fetch(input, init));
  return {
    name: "http",
    version: "http@1",
    async run(input, ctx) {
      if (!config.url) {
        throw new GeneratorError("HTTP_NOT_CONFIGURED", "HTTP_GENERATOR_URL is not set");
      }
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
        });
        const body = await response.text();
        if (!response.ok) {
          throw new GeneratorError(
            `HTTP_STATUS_${response.status}`,
            `the generator service answered ${response.status}${body ? `: ${body.slice(0, DETAIL_CHARS)}` : ""}`,
          );
        }
        if (body.length > MAX_RESPONSE_CHARS) {
          throw new GeneratorError(
            "HTTP_INVALID_RESPONSE",
            `the generator service answered more than ${MAX_RESPONSE_CHARS} characters`,
          );
        }
        try {
          return JSON.parse(body) as unknown;
        } catch {
          throw new GeneratorError(
            "HTTP_INVALID_RESPONSE",
            `the generator service answered something that is not JSON: ${body.slice(0, DETAIL_CHARS)}`,
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
        throw new GeneratorError(
          "HTTP_ERROR",
          `the generator service could not be reached: ${describe(error)}`,
        );
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onJobAbort);
      }
    },
  };
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
}
