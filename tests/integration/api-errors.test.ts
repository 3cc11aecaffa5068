import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { connect } from "../../db/client";
import { ERROR_CODES } from "../../functions/domain/errors";
import { BODY_LIMIT_BYTES } from "../../functions/http/body-limit";
import { STATUS_BY_CODE } from "../../functions/http/errors";
import {
  type ApiApp,
  call,
  createTokens,
  type JsonBody,
  type Tokens,
  testApp,
} from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/** Every failure leaves as the one JSON error body, with the right status and a request id. */

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db);
  tokens = await createTokens(t.db);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function expectErrorBody(response: { body: JsonBody; headers: Headers }, code: string) {
  expect(Object.keys(response.body)).toEqual(["error"]);
  expect(response.body.error.code).toBe(code);
  expect(typeof response.body.error.message).toBe("string");
  expect(response.body.error.requestId).toBe(response.headers.get("x-request-id"));
  for (const key of Object.keys(response.body.error)) {
    expect(["code", "message", "details", "requestId"]).toContain(key);
  }
}

const submit = (body: unknown, headers: Record<string, string> = {}) =>
  call(app, "POST", "/api/jobs", { token: tokens.submitter, body, headers });

describe("validation", () => {
  it("refuses a null input with 400 naming the field, and writes no job", async () => {
    const before = await t.raw.query("SELECT count(*)::int AS n FROM regeneration_jobs");
    const response = await submit({ generator: "demo", input: null });
    expect(response.status).toBe(400);
    expectErrorBody(response, "VALIDATION_FAILED");
    expect(JSON.stringify(response.body.error)).toContain("input");
    const after = await t.raw.query("SELECT count(*)::int AS n FROM regeneration_jobs");
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it("refuses unknown fields (no mass assignment) with 400 and names them", async () => {
    const response = await submit({
      generator: "demo",
      input: {},
      status: "COMPLETED",
      createdBy: "someone-else",
    });
    expect(response.status).toBe(400);
    expectErrorBody(response, "VALIDATION_FAILED");
    expect(response.body.error.details.target).toBe("body");
    expect(response.body.error.details.issues).toContainEqual(
      expect.objectContaining({ code: "unrecognized_keys" }),
    );
    const intent = await call(app, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      body: {
        sourceJobId: "zzzzzzzzzzzzzzzzzzzzzzzz",
        reasonCode: "OTHER",
        reasonText: "x",
        approvedBy: "token:someone-else",
      },
    });
    expect(intent.status).toBe(400);
  });

  it("lists each problem with its path", async () => {
    const response = await call(app, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      body: { sourceJobId: 42, reasonCode: "BECAUSE", reasonText: "" },
    });
    expect(response.status).toBe(400);
    const paths = response.body.error.details.issues.map((i: { path: string[] }) => i.path[0]);
    expect(paths).toEqual(expect.arrayContaining(["sourceJobId", "reasonCode", "reasonText"]));
  });

  it("refuses input PostgreSQL could not store with 400, not 500", async () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 100; i++) deep = [deep];
    for (const input of [
      { text: "nul \u0000 byte" },
      { "key\u0000": 1 },
      { text: "lone \ud800 surrogate" },
      deep,
    ]) {
      const response = await submit({ generator: "demo", input });
      expect(response.status).toBe(400);
      expectErrorBody(response, "VALIDATION_FAILED");
    }
    const { rows } = await t.raw.query("SELECT count(*)::int AS n FROM regeneration_jobs");
    expect(rows[0].n).toBe(0);
  });

  it("answers malformed JSON with 400", async () => {
    for (const body of ["{", '{"generator": "demo", "input": }', "", "[1,2"]) {
      const response = await submit(body, { "content-type": "application/json" });
      expect(response.status, body).toBe(400);
      expectErrorBody(response, "VALIDATION_FAILED");
    }
  });
});

describe("media type and size", () => {
  it("answers a non-JSON body with 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    for (const [contentType, body] of [
      ["text/plain", '{"generator":"demo","input":{}}'],
      ["application/x-www-form-urlencoded", "generator=demo"],
      ["multipart/form-data; boundary=x", "--x--"],
      ["application/xml", "<job/>"],
    ] as const) {
      const response = await submit(body, { "content-type": contentType });
      expect(response.status, contentType).toBe(415);
      expectErrorBody(response, "UNSUPPORTED_MEDIA_TYPE");
    }
    const noType = await app.request("/api/jobs", {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.submitter}` },
      body: new TextEncoder().encode('{"generator":"demo","input":{}}'),
    });
    expect(noType.status).toBe(415);
  });

  it(`answers a body over ${BODY_LIMIT_BYTES} bytes with 413 PAYLOAD_TOO_LARGE`, async () => {
    const huge = { generator: "demo", input: { text: "x".repeat(BODY_LIMIT_BYTES) } };
    const declared = await submit(huge);
    expect(declared.status).toBe(413);
    expectErrorBody(declared, "PAYLOAD_TOO_LARGE");

    // Streamed without a Content-Length: counted while read.
    const bytes = new TextEncoder().encode(JSON.stringify(huge));
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const streamed = await app.request("/api/jobs", {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.submitter}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const { rows } = await t.raw.query("SELECT count(*)::int AS n FROM regeneration_jobs");
    expect(rows[0].n).toBe(0);
  });
});

describe("routing", () => {
  it("answers unknown paths with 404 NOT_FOUND", async () => {
    for (const [method, path] of [
      ["GET", "/api/nothing-here"],
      ["DELETE", "/api/nothing-here"],
      ["GET", "/api/admin/jobs/abc/more"],
      ["GET", "/"],
    ] as const) {
      const response = await call(app, method, path, { token: tokens.admin });
      expect(response.status, `${method} ${path}`).toBe(404);
      expectErrorBody(response, "NOT_FOUND");
    }
  });

  it("answers other methods on a known path with 405 and the methods it takes in Allow", async () => {
    for (const [method, path, allow] of [
      ["DELETE", "/api/jobs", "POST"],
      ["PUT", "/api/admin/retry-intents/abc", "GET, HEAD"],
      ["DELETE", "/api/admin/jobs/abc", "GET, HEAD"],
      ["GET", "/api/admin/retry-intents/abc/execute", "POST"],
      ["PATCH", "/api/admin/retry-intents", "GET, HEAD, POST"],
      ["POST", "/healthz", "GET, HEAD"],
      ["POST", "/api/openapi.json", "GET, HEAD"],
      // A path of its own, which the batch routes must not take for an id.
      ["GET", "/api/admin/retry-batches/preview", "POST"],
      ["OPTIONS", "/api/admin/retry-batches/preview", "POST"],
    ] as const) {
      for (const token of [tokens.admin, undefined]) {
        const response = await call(app, method, path, { token });
        expect(response.status, `${method} ${path}`).toBe(405);
        expect(response.headers.get("allow")).toBe(allow);
        expectErrorBody(response, "METHOD_NOT_ALLOWED");
      }
    }
  });

  it("treats ids that cannot be ours as not found", async () => {
    for (const id of ["%00", "..%2F..%2Fetc", "UPPER", "a b", "x".repeat(65), "%E0%A4%A"]) {
      const admin = await call(app, "GET", `/api/admin/jobs/${id}`, { token: tokens.admin });
      expect(admin.status, id).toBe(404);
      expect(admin.body.error.code).toBe("JOB_NOT_FOUND");
      const own = await call(app, "GET", `/api/jobs/${id}`, { token: tokens.submitter });
      expect(own.status, id).toBe(404);
    }
  });
});

describe("unexpected failures", () => {
  it("answers 500 INTERNAL with a request id and nothing from the inside", async () => {
    const broken = await connect({ url: t.url, max: 1 });
    await broken.close();
    const brokenApp = testApp(broken.db);
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => {
      logged.push(String(line));
    });
    const response = await call(brokenApp, "GET", "/api/admin/jobs", { token: tokens.admin });
    expect(response.status).toBe(500);
    expectErrorBody(response, "INTERNAL");
    expect(response.body.error.message).toBe("internal error");
    expect(response.body.error.details).toBeUndefined();
    const text = JSON.stringify(response.body);
    expect(text).not.toMatch(/select|pool|api_tokens|\bat\s|\.ts/i);
    // The operator finds the cause in the log under the same request id.
    expect(logged.join("\n")).toContain(response.body.error.requestId);

    const health = await call(brokenApp, "GET", "/healthz");
    expect(health.status).toBe(503);
  });

  it("has a status for every error code, and 5xx only for INTERNAL and a lost database", () => {
    for (const code of ERROR_CODES) {
      const status = STATUS_BY_CODE[code];
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status >= 500).toBe(code === "INTERNAL" || code === "SERVICE_UNAVAILABLE");
    }
  });
});

describe("documentation", () => {
  it("serves the generated OpenAPI document and a self-contained reference page", async () => {
    const doc = await call(app, "GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(doc.body.paths["/api/admin/retry-intents/{id}/execute"].post["x-regent-role"]).toBe(
      "admin",
    );
    expect(doc.body.components.schemas.SubmitJob.additionalProperties).toBe(false);
    const page = await call(app, "GET", "/api/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.body).toContain("POST /api/admin/retry-intents/{id}/execute");
    expect(page.body).not.toMatch(/<script|https?:\/\/(?!127)/i);
  });
});
