import { type Generator, GeneratorError } from "./registry";

/**
 * Deterministic and instant, for trying Regent out and for tests: upper-cases `text`, or
 * fails with DEMO_FAILURE while the job's retry depth is below `failAttempts` — so a job
 * with `failAttempts: 1` fails as an original and succeeds as its first retry.
 */
export const demoGenerator: Generator = {
  name: "demo",
  version: "demo@1",
  run(input, ctx) {
    const { text, failAttempts } = parseDemoInput(input);
    if (ctx.retryDepth < failAttempts) {
      throw new GeneratorError(
        "DEMO_FAILURE",
        `demo fails while the retry depth (${ctx.retryDepth}) is below failAttempts (${failAttempts})`,
      );
    }
    return { text: text.toUpperCase() };
  },
};

function parseDemoInput(input: unknown): { text: string; failAttempts: number } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new GeneratorError("INVALID_INPUT", 'demo input must be an object like {"text": "…"}');
  }
  const { text, failAttempts } = input as { text?: unknown; failAttempts?: unknown };
  if (typeof text !== "string") {
    throw new GeneratorError("INVALID_INPUT", "demo input.text must be a string");
  }
  if (
    failAttempts !== undefined &&
    !(typeof failAttempts === "number" && Number.isSafeInteger(failAttempts) && failAttempts >= 0)
  ) {
    throw new GeneratorError(
      "INVALID_INPUT",
      "demo input.failAttempts must be a non-negative integer",
    );
  }
  return { text, failAttempts: failAttempts ?? 0 };
}
