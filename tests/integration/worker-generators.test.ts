import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobError } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRegistry,
  demoGenerator,
  type Generator,
  GeneratorError,
  httpGenerator,
} from "../../functions/execution/generators";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { outputsOf, rawJob } from "../helpers/worker";

/**
 * Every way a generator can end becomes the job's outcome; none of them stops the pass.
 * The `http` generator talks to a local server started here (the only fake: the remote
 * service), which answers according to the job's input.
 */
let t: TestDatabase;
let server: Server;
let url: string;
const received: { path: string; headers: IncomingMessage["headers"]; body: unknown }[] = [];

async function submit(generator: string, input: unknown): Promise<string> {
  return (await submitJob(t.db, submitter, { generator, input })).id;
}

async function errorOf(jobId: string): Promise<JobError> {
  const job = await rawJob(t.raw, jobId);
  expect(job.status).toBe("FAILED");
  expect(await outputsOf(t.raw, jobId)).toEqual([]);
  return job.error as JobError;
}

beforeAll(async () => {
  t = await freshDatabase();
  server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text) as { mode?: string; text?: string };
    received.push({ path: req.url ?? "", headers: req.headers, body });
    switch (body.mode) {
      case "hang":
        return; // never answers
      case "unavailable":
        res.writeHead(503, { "content-type": "text/plain" }).end("upstream is down");
        return;
      case "not-json":
        res.writeHead(200, { "content-type": "text/plain" }).end("hello");
        return;
      default:
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ z: 1, echoed: body.text, a: [true, null] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/generate`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("the http generator", () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ids.ok = await submit("http", { text: "hi", url: "http://198.51.100.1/elsewhere" });
    ids.unavailable = await submit("http", { mode: "unavailable" });
    ids.hang = await submit("http", { mode: "hang" });
    ids.notJson = await submit("http", { mode: "not-json" });
    await runWorkerInvocation(t.db, {
      budgetMs: 10_000,
      concurrency: 4,
      batchSize: 10,
      jobTimeoutMs: 10_000,
      generators: createRegistry([
        httpGenerator({ url, timeoutMs: 300, headers: { "x-api-key": "secret-from-config" } }),
      ]),
      log: () => {},
    });
  });

  it("POSTs the input to the configured URL with the configured headers and stores the JSON answer", async () => {
    expect((await rawJob(t.raw, ids.ok as string)).status).toBe("COMPLETED");
    const [output] = await outputsOf(t.raw, ids.ok as string);
    expect(output?.content).toEqual({ a: [true, null], echoed: "hi", z: 1 });
    expect(output?.generatorVersion).toBe("http@1");
    const request = received.find((r) => (r.body as { text?: string }).text === "hi");
    expect(request?.path).toBe("/generate");
    expect(request?.body).toEqual({ text: "hi", url: "http://198.51.100.1/elsewhere" });
    expect(request?.headers["x-api-key"]).toBe("secret-from-config");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["regent-job-id"]).toBe(ids.ok);
  });

  it("fails the job with HTTP_STATUS_<code> on a non-2xx answer", async () => {
    const error = await errorOf(ids.unavailable as string);
    expect(error.code).toBe("HTTP_STATUS_503");
    expect(error.message).toContain("upstream is down");
  });

  it("fails the job with HTTP_TIMEOUT when the endpoint hangs", async () => {
    const error = await errorOf(ids.hang as string);
    expect(error.code).toBe("HTTP_TIMEOUT");
    expect(error.message).toContain("300 ms");
  });

  it("fails the job with HTTP_INVALID_RESPONSE when the answer is not JSON", async () => {
    expect((await errorOf(ids.notJson as string)).code).toBe("HTTP_INVALID_RESPONSE");
  });

  it("fails with HTTP_NOT_CONFIGURED, without any request, when no URL is configured", async () => {
    const id = await submit("http", { text: "nowhere" });
    const before = received.length;
    await runWorkerInvocation(t.db, {
      budgetMs: 5_000,
      concurrency: 1,
      batchSize: 5,
      log: () => {},
    });
    expect((await errorOf(id)).code).toBe("HTTP_NOT_CONFIGURED");
    expect(received).toHaveLength(before);
  });

  it("fails with GENERATOR_TIMEOUT when the job's own timeout passes first", async () => {
    const id = await submit("http", { mode: "hang" });
    await runWorkerInvocation(t.db, {
      budgetMs: 5_000,
      concurrency: 1,
      batchSize: 5,
      jobTimeoutMs: 200,
      generators: createRegistry([httpGenerator({ url, timeoutMs: 30_000 })]),
      log: () => {},
    });
    const error = await errorOf(id);
    expect(error.code).toBe("GENERATOR_TIMEOUT");
    expect(error.message).toContain("200 ms");
  });
});

describe("failures inside one pass", () => {
  const ids: Record<string, string> = {};
  let aborted = false;
  const testGenerators: Generator[] = [
    demoGenerator,
    {
      name: "throws",
      version: "t@1",
      run() {
        throw new TypeError("cannot read properties of undefined");
      },
    },
    {
      name: "rejects-with-a-string",
      version: "t@1",
      run: () => Promise.reject("plain string"),
    },
    {
      name: "coded",
      version: "t@1",
      run: async () => {
        throw new GeneratorError("MODEL_REFUSED", "the model declined");
      },
    },
    {
      name: "returns-nothing",
      version: "t@1",
      run: () => undefined,
    },
    {
      name: "returns-nul",
      version: "t@1",
      run: () => ({ text: "a\u0000b" }),
    },
    {
      name: "hangs",
      version: "t@1",
      run: (_input, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          });
        }),
    },
  ];

  beforeAll(async () => {
    for (const g of testGenerators) ids[g.name] = await submit(g.name, { text: g.name });
    ids.unknown = await submit("no-such-generator", { text: "x" });
    ids.badInput = await submit("demo", { text: 42 });
    ids.demoFails = await submit("demo", { text: "x", failAttempts: 1 });
    ids.last = await submit("demo", { text: "still runs" });
    const result = await runWorkerInvocation(t.db, {
      budgetMs: 10_000,
      concurrency: 3,
      batchSize: 4,
      jobTimeoutMs: 200,
      generators: createRegistry(testGenerators),
      log: () => {},
    });
    expect(result).toMatchObject({ claimed: 11, completed: 2, failed: 9, refused: 0 });
  });

  it.each([
    ["unknown", "UNKNOWN_GENERATOR"],
    ["badInput", "INVALID_INPUT"],
    ["demoFails", "DEMO_FAILURE"],
    ["throws", "GENERATOR_ERROR"],
    ["rejects-with-a-string", "GENERATOR_ERROR"],
    ["coded", "MODEL_REFUSED"],
    ["returns-nothing", "INVALID_OUTPUT"],
    ["returns-nul", "INVALID_OUTPUT"],
    ["hangs", "GENERATOR_TIMEOUT"],
  ])("fails the %s job with %s", async (key, code) => {
    const error = await errorOf(ids[key] as string);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(0);
    const { rows } = await t.raw.query(
      "SELECT data FROM audit_events WHERE subject_id = $1 AND type = 'JOB_FAILED'",
      [ids[key]],
    );
    expect(rows).toEqual([{ data: error }]);
  });

  it("names the missing generator and keeps the generator's message", async () => {
    expect((await errorOf(ids.unknown as string)).message).toContain("no-such-generator");
    expect((await errorOf(ids.coded as string)).message).toBe("the model declined");
    expect((await errorOf(ids.throws as string)).message).toContain("cannot read properties");
  });

  it("aborts the signal of a generator that outlives its timeout", () => {
    expect(aborted).toBe(true);
  });

  it("still completes the other jobs of the pass", async () => {
    for (const key of ["demo", "last"]) {
      expect((await rawJob(t.raw, ids[key] as string)).status).toBe("COMPLETED");
    }
    expect((await outputsOf(t.raw, ids.last as string))[0]?.content).toEqual({
      text: "STILL RUNS",
    });
  });
});
