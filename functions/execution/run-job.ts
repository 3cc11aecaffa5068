import type { z } from "zod";
import { canonicalJson } from "../domain/canonical-json";
import { isThenable, TIMED_OUT, withTimeout } from "./async";
import type { Outcome } from "./claimer";
import {
  type ClaimedJob,
  type GeneratorContext,
  GeneratorError,
  type GeneratorRegistry,
} from "./generators";
import { describeError, failure } from "./job-failure";

/**
 * Runs one job's generator; every way it can end becomes an outcome, never an exception, so
 * one job's failure cannot stop the invocation. `timings.generatorMs` gathers the time spent.
 * The output is canonicalised here, beside the generator: what JSON cannot hold, and U+0000,
 * fail as INVALID_OUTPUT before reaching a finishing batch; anything else the database refuses
 * is the finisher's to record, as OUTPUT_REJECTED.
 */
export async function runJob(
  job: ClaimedJob,
  registry: GeneratorRegistry,
  jobTimeoutMs: number,
  timings: { generatorMs: number },
): Promise<Outcome> {
  const generator = registry.get(job.generator);
  if (!generator) {
    return failure(
      job.id,
      "UNKNOWN_GENERATOR",
      `no generator named "${job.generator}" is installed`,
    );
  }
  // The API checked the input against the schema current then; a job can wait across a release.
  const parsed = generator.inputSchema.safeParse(job.input);
  if (!parsed.success) {
    return failure(
      job.id,
      "INVALID_INPUT",
      `the input does not match ${generator.version}'s input schema: ${issuesOf(parsed.error)}`,
      generator.version,
    );
  }
  // Most generators never look at the signal; an AbortController per job is made only on demand.
  let controller: AbortController | undefined;
  const ctx: GeneratorContext = {
    job,
    retryDepth: job.retryDepth,
    get signal() {
      controller ??= new AbortController();
      return controller.signal;
    },
  };
  const t = performance.now();
  try {
    let value = generator.run(parsed.data, ctx);
    if (isThenable(value)) {
      value = await withTimeout(value, jobTimeoutMs, () =>
        controller?.abort(new Error("the job's timeout passed")),
      );
    }
    let content: string;
    try {
      content = canonicalJson(value);
    } catch (error) {
      return failure(
        job.id,
        "INVALID_OUTPUT",
        `the generator's output is not JSON: ${describeError(error)}`,
        generator.version,
      );
    }
    if (content.includes("\\u0000")) {
      return failure(
        job.id,
        "INVALID_OUTPUT",
        "PostgreSQL cannot store the character U+0000 in JSON",
        generator.version,
      );
    }
    return {
      jobId: job.id,
      ok: true,
      // Not cuid2 like job ids: cuid2 costs ~170 µs an id here, more than the rest of a demo job.
      content,
      contentSha256: "",
      generatorVersion: generator.version,
    };
  } catch (error) {
    if (error === TIMED_OUT) {
      return failure(
        job.id,
        "GENERATOR_TIMEOUT",
        `the generator ran longer than ${jobTimeoutMs} ms`,
        generator.version,
      );
    }
    if (error instanceof GeneratorError && typeof error.code === "string" && error.code) {
      return failure(
        job.id,
        error.code.slice(0, 100),
        error.message,
        generator.version,
        error.upstream,
      );
    }
    return failure(job.id, "GENERATOR_ERROR", describeError(error), generator.version);
  } finally {
    timings.generatorMs += performance.now() - t;
  }
}

/** Where and what, for the first few issues: `input.text: Invalid input: expected string…`. */
function issuesOf(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = ["input", ...issue.path.map(String)].join(".");
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}
