import { describe, expect, it } from "vitest";
import {
  builtInGenerators,
  catalogOf,
  demoGenerator,
  type GeneratorContext,
  GeneratorError,
} from "../../functions/execution/generators";
import { runJob } from "../../functions/execution/run-job";

const ctx = (retryDepth: number): GeneratorContext => ({
  job: {
    id: "job1",
    generator: "demo",
    input: null,
    retryOfJobId: null,
    retryIntentId: null,
    retryDepth,
    leaseExpiresAtMs: 0,
  },
  retryDepth,
  signal: new AbortController().signal,
});

function failure(run: () => unknown): GeneratorError {
  try {
    run();
  } catch (error) {
    if (error instanceof GeneratorError) return error;
    throw error;
  }
  throw new Error("the generator did not fail");
}

describe("the demo generator", () => {
  it("upper-cases the text", () => {
    expect(demoGenerator.run({ text: "Hello, wörld" }, ctx(0))).toEqual({ text: "HELLO, WÖRLD" });
  });

  it("fails with DEMO_FAILURE while the retry depth is below failAttempts", () => {
    const input = { text: "x", failAttempts: 2 };
    expect(failure(() => demoGenerator.run(input, ctx(0))).code).toBe("DEMO_FAILURE");
    expect(failure(() => demoGenerator.run(input, ctx(1))).code).toBe("DEMO_FAILURE");
    expect(demoGenerator.run(input, ctx(2))).toEqual({ text: "X" });
    expect(demoGenerator.run({ text: "x", failAttempts: 0 }, ctx(0))).toEqual({ text: "X" });
  });

  it.each([
    ["not an object", "hello"],
    ["null", null],
    ["an array", [{ text: "x" }]],
    ["text missing", {}],
    ["text not a string", { text: 1 }],
    ["failAttempts negative", { text: "x", failAttempts: -1 }],
    ["failAttempts fractional", { text: "x", failAttempts: 1.5 }],
    ["failAttempts a string", { text: "x", failAttempts: "1" }],
  ])("refuses input with %s: the worker fails the job INVALID_INPUT", async (_case, input) => {
    expect(demoGenerator.inputSchema.safeParse(input).success).toBe(false);
    const registry = builtInGenerators({ timeoutMs: 1000 });
    const outcome = await runJob({ ...ctx(0).job, input }, registry, 1000, { generatorMs: 0 });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe("INVALID_INPUT");
      expect(outcome.error.message).toMatch(
        /^the input does not match demo@1's input schema: input/,
      );
    }
  });

  it("publishes its input as JSON Schema (draft 2020-12)", () => {
    const [demo] = catalogOf(builtInGenerators({ timeoutMs: 1000 }));
    expect(demo).toMatchObject({
      name: "demo",
      version: "demo@1",
      inputSchema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        required: ["text"],
        properties: { text: { type: "string" }, failAttempts: { type: "integer", minimum: 0 } },
      },
    });
  });

  it("is registered with http among the built-ins", () => {
    const registry = builtInGenerators({ timeoutMs: 1000 });
    expect([...registry.keys()].sort()).toEqual(["demo", "http"]);
    expect(registry.get("demo")?.version).toBe("demo@1");
  });
});
