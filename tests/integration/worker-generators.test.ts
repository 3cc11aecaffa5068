import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { publishGenerators } from "../../db/catalog";
import type { JobError } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import {
  builtInCatalog,
  createRegistry,
  demoGenerator,
  type Generator,
  GeneratorError,
  type HttpGeneratorConfig,
  httpGenerator,
} from "../../functions/execution/generators";
import { MAX_RESPONSE_CHARS } from "../../functions/execution/generators/http";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { logSink, outputsOf, rawJob } from "../helpers/worker";

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
  await catalogue(t.db, generator);
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
        // Long enough for a loaded machine's first fetch (loading undici alone can take 250 ms).
        httpGenerator({ url, timeoutMs: 1500, headers: { "x-api-key": "secret-from-config" } }),
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
    // The submitter reads this message; the service's answer is for the operators' log.
    expect(error.message).toBe("the generator service answered 503");
  });

  it("fails the job with HTTP_TIMEOUT when the endpoint hangs", async () => {
    const error = await errorOf(ids.hang as string);
    expect(error.code).toBe("HTTP_TIMEOUT");
    expect(error.message).toContain("1500 ms");
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
      inputSchema: z.unknown(),
      run() {
        throw new TypeError("cannot read properties of undefined");
      },
    },
    {
      name: "rejects-with-a-string",
      version: "t@1",
      inputSchema: z.unknown(),
      run: () => Promise.reject("plain string"),
    },
    {
      name: "coded",
      version: "t@1",
      inputSchema: z.unknown(),
      run: async () => {
        throw new GeneratorError("MODEL_REFUSED", "the model declined");
      },
    },
    {
      name: "returns-nothing",
      version: "t@1",
      inputSchema: z.unknown(),
      run: () => undefined,
    },
    {
      name: "returns-nul",
      version: "t@1",
      inputSchema: z.unknown(),
      run: () => ({ text: "a\u0000b" }),
    },
    {
      name: "hangs",
      version: "t@1",
      inputSchema: z.unknown(),
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
    // Accepted under an earlier version whose schema took any input; run by today's demo@1,
    // as a job that waited across a release is.
    await publishGenerators(t.db, [{ name: "demo", version: "demo@0", inputSchema: {} }], "test");
    ids.badInput = await submit("demo", { text: 42 });
    await publishGenerators(t.db, builtInCatalog(), "test");
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

const extraServers: Server[] = [];

afterAll(async () => {
  for (const s of extraServers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A local server on its own port: another origin, as far as fetch is concerned. */
async function listen(handler: RequestListener): Promise<string> {
  const s = createServer(handler);
  extraServers.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<{ mode?: string }> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return JSON.parse(text) as { mode?: string };
}

/** One invocation over every pending job, with room enough that no timeout decides anything. */
async function runHttpJobs(config: Omit<HttpGeneratorConfig, "timeoutMs">): Promise<void> {
  await runWorkerInvocation(t.db, {
    budgetMs: 60_000,
    concurrency: 8,
    batchSize: 20,
    jobTimeoutMs: 60_000,
    generators: createRegistry([httpGenerator({ timeoutMs: 55_000, ...config })]),
    log: () => {},
  });
}

const HUGE_BYTES = 64 * 1024 * 1024;
const API_KEY = "key-from-config-8f3a91c2";
const BEARER = "tok_5d0c7e4b9a1f";

describe("the http generator against a hostile or broken service", () => {
  const ids: Record<string, string> = {};
  const stolen: string[] = [];
  const huge = {
    written: 0,
    finished: false,
    closed: undefined as Promise<void> | undefined,
    done: undefined as Promise<void> | undefined,
  };
  const logs = logSink();
  let origin: string;
  let thief: string;

  async function streamHuge(res: ServerResponse): Promise<void> {
    huge.closed = new Promise((resolve) => res.once("close", resolve));
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, "1");
    res.write("[");
    while (huge.written < HUGE_BYTES && !res.destroyed) {
      const more = res.write(chunk);
      huge.written += chunk.length;
      if (!more) {
        await Promise.race([new Promise((resolve) => res.once("drain", resolve)), huge.closed]);
      }
    }
    if (!res.destroyed) res.end("]");
    await huge.closed;
    huge.finished = res.writableFinished;
  }

  beforeAll(async () => {
    thief = await listen(async (req, res) => {
      for await (const _ of req);
      stolen.push(`${req.method} ${req.url} ${req.headers["x-api-key"] ?? ""}`);
      res.writeHead(200, { "content-type": "application/json" }).end('{"stolen":true}');
    });
    origin = await listen(async (req, res) => {
      const { mode = "" } = await bodyOf(req);
      const redirect = /^redirect-(\d+)$/.exec(mode);
      if (redirect) {
        res.writeHead(Number(redirect[1]), { location: `${thief}/steal?sig=abc` }).end();
      } else if (mode === "huge") {
        huge.done = streamHuge(res);
      } else if (mode === "split-utf8") {
        // "é" is two bytes in UTF-8; they arrive in different chunks.
        res.writeHead(200, { "content-type": "application/json" });
        res.write(Buffer.from([...Buffer.from('{"text":"caf'), 0xc3]));
        await new Promise((resolve) => setTimeout(resolve, 20));
        res.end(Buffer.from([0xa9, ...Buffer.from('"}')]));
      } else if (mode === "echo-credentials") {
        res
          .writeHead(401, { "content-type": "text/plain" })
          .end(
            `${"-".repeat(200)} key ${req.headers["x-api-key"]} rejected for ${req.headers.authorization}\n${"x".repeat(5000)}`,
          );
      } else if (mode === "html") {
        res.writeHead(200, { "content-type": "text/html" }).end("<p>session=s3cr3t-cookie</p>");
      } else {
        res.writeHead(500).end();
      }
    });

    for (const status of [301, 302, 303, 307, 308]) {
      ids[`redirect-${status}`] = await submit("http", { mode: `redirect-${status}` });
    }
    for (const mode of ["huge", "split-utf8", "echo-credentials", "html"]) {
      ids[mode] = await submit("http", { mode });
    }
    await runHttpJobs({
      url: `${origin}/generate`,
      headers: { "x-api-key": API_KEY, authorization: `Bearer ${BEARER}` },
      log: logs.log,
    });
  });

  it.each([301, 302, 303, 307, 308])(
    "refuses a %i redirect without following it",
    async (status) => {
      const error = await errorOf(ids[`redirect-${status}`] as string);
      expect(error.code).toBe("HTTP_REDIRECT_REFUSED");
      expect(error.message).toContain(String(status));
      expect(stolen).toEqual([]);
      const line = logs.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.jobId === ids[`redirect-${status}`]);
      expect(line).toMatchObject({ code: "HTTP_REDIRECT_REFUSED", status, location: thief });
    },
  );

  it("stops reading an answer past the limit, and closes the connection early", async () => {
    const error = await errorOf(ids.huge as string);
    expect(error.code).toBe("HTTP_INVALID_RESPONSE");
    expect(error.message).toContain(`more than ${MAX_RESPONSE_CHARS} characters`);
    await huge.done;
    expect(huge.finished).toBe(false);
    expect(huge.written).toBeLessThan(HUGE_BYTES / 4);
  });

  it("decodes UTF-8 split across chunks", async () => {
    expect((await outputsOf(t.raw, ids["split-utf8"] as string))[0]?.content).toEqual({
      text: "café",
    });
  });

  it("keeps the service's error answer from the submitter's message, and the credentials from the log and the error", async () => {
    const error = await errorOf(ids["echo-credentials"] as string);
    expect(error).toMatchObject({
      code: "HTTP_STATUS_401",
      message: "the generator service answered 401",
      generatorVersion: "http@1",
      upstream: { status: 401, contentType: "text/plain", truncated: true },
    });
    expect(error.upstream?.excerpt).toContain("key [redacted] rejected for [redacted]\nxxx");
    expect(JSON.stringify(error)).not.toContain(API_KEY);
    expect(JSON.stringify(error)).not.toContain(BEARER);
    const line = logs.lines.find((l) => l.includes(ids["echo-credentials"] as string)) ?? "";
    const logged = JSON.parse(line) as { code: string; status: number; excerpt: string };
    expect(logged).toMatchObject({ code: "HTTP_STATUS_401", status: 401 });
    expect(logged.excerpt).toContain("key [redacted] rejected");
    expect(logged.excerpt.length).toBeLessThanOrEqual(301);
    expect(line).not.toContain(API_KEY);
    expect(line).not.toContain(BEARER);
  });

  it("does not quote a 2xx answer that is not JSON to the submitter", async () => {
    const error = await errorOf(ids.html as string);
    expect(error.code).toBe("HTTP_INVALID_RESPONSE");
    expect(error.message).not.toContain("s3cr3t");
    const line = logs.lines.find((l) => l.includes(ids.html as string)) ?? "";
    expect(JSON.parse(line)).toMatchObject({
      code: "HTTP_INVALID_RESPONSE",
      excerpt: "<p>session=s3cr3t-cookie</p>",
    });
  });

  it("does not quote a runtime error that names the URL's credentials or a header value", async () => {
    const withUserinfo = await submit("http", { mode: "unused" });
    const credentialsLogs = logSink();
    await runHttpJobs({
      url: `${origin.replace("://", "://regent:pa55word-in-url@")}/generate`,
      log: credentialsLogs.log,
    });
    const badHeader = await submit("http", { mode: "unused" });
    const headerLogs = logSink();
    await runHttpJobs({
      url: `${origin}/generate`,
      headers: { authorization: `Bearer ${BEARER}\nx-injected: 1` },
      log: headerLogs.log,
    });

    for (const [id, sink, secret] of [
      [withUserinfo, credentialsLogs, "pa55word-in-url"],
      [badHeader, headerLogs, BEARER],
    ] as const) {
      const error = await errorOf(id);
      expect(error.code).toBe("HTTP_ERROR");
      expect(error.message).not.toContain(secret);
      expect(sink.lines).toHaveLength(1);
      expect(sink.lines[0]).toContain('"code":"HTTP_ERROR"');
      expect(sink.lines[0]).not.toContain(secret);
    }
  });
});
