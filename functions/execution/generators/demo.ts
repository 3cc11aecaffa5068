import { z } from "zod";
import { type Generator, GeneratorError } from "./registry";

const DemoInput = z.object({
  text: z.string().describe("the text to upper-case"),
  failAttempts: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("fail (DEMO_FAILURE) while the job's retry depth is below this; default 0"),
});

/**
 * Deterministic and instant, for trying Regent out and for tests: upper-cases `text`, or
 * fails with DEMO_FAILURE while the job's retry depth is below `failAttempts` — so a job
 * with `failAttempts: 1` fails as an original and succeeds as its first retry.
 */
export const demoGenerator: Generator<z.output<typeof DemoInput>> = {
  name: "demo",
  version: "demo@1",
  inputSchema: DemoInput,
  subrequests: 0,
  run({ text, failAttempts = 0 }, ctx) {
    if (ctx.retryDepth < failAttempts) {
      throw new GeneratorError(
        "DEMO_FAILURE",
        `demo fails while the retry depth (${ctx.retryDepth}) is below failAttempts (${failAttempts})`,
      );
    }
    return { text: text.toUpperCase() };
  },
};
