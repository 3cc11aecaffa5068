import { DrizzleQueryError } from "drizzle-orm/errors";
import { Hono } from "hono";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../functions/domain/canonical-json";
import { onError } from "../../functions/http/errors";
import { type ApiApp, type ApiResponse, call, type JsonBody, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/**
 * The server's error log is read by more people, and kept longer, than the database: an
 * unexpected error is logged with where it happened and what PostgreSQL said, never with the
 * parameters of the statement that failed (a bearer token's SHA-256 among them) nor with the
 * query string of the request.
 */

let t: TestDatabase;
let app: ApiApp;

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db);
});

afterEach(() => {
  vi.restoreAllMocks();
});

function captureErrorLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  return lines;
}

describe("the log line of an internal error", () => {
  it("carries PostgreSQL's refusal of the token lookup, not the token, its hash or the query string", async () => {
    const token = `rgt_log-probe-${crypto.randomUUID()}`;
    const hash = await sha256Hex(token);
    const lines = captureErrorLog();
    // The token lookup now fails inside PostgreSQL, with the token's hash as its parameter.
    await t.raw.query("ALTER TABLE api_tokens RENAME TO api_tokens_moved_away");
    let response: ApiResponse<JsonBody>;
    try {
      response = await call(app, "GET", "/api/admin/jobs?access_token=query-secret-4711", {
        token,
      });
    } finally {
      await t.raw.query("ALTER TABLE api_tokens_moved_away RENAME TO api_tokens");
    }
    expect(response.status).toBe(500);

    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    for (const secret of [token, hash, "query-secret-4711", "access_token"]) {
      expect(line).not.toContain(secret);
    }
    expect(line).not.toMatch(/Failed query|params:/);
    expect(JSON.parse(line)).toMatchObject({
      level: "error",
      requestId: response.body.error.requestId,
      method: "GET",
      path: "/api/admin/jobs",
      sqlstate: "42P01",
      message: 'relation "api_tokens" does not exist',
    });
  });

  describe("of an error thrown by a route", () => {
    const boom = new Hono<{ Variables: { requestId: string } }>();
    let thrown: unknown;
    boom.use(async (c, next) => {
      c.set("requestId", "req-1");
      await next();
    });
    boom.get("/boom", () => {
      throw thrown;
    });
    boom.onError(onError);

    it("takes a wrapped driver error's own words, never the wrapper's query and parameters", async () => {
      const cause = Object.assign(new Error("Connection lost in the middle of it"), {
        code: "XX_LOST",
      });
      thrown = new DrizzleQueryError(
        'select * from "api_tokens" where "token_sha256" = $1',
        ["hash-param-0123456789abcdef"],
        cause,
      );
      const lines = captureErrorLog();
      const response = await boom.request("/boom?secret=query-secret");
      expect(response.status).toBe(500);
      const logged = JSON.parse(lines[0] as string);
      expect(logged).toMatchObject({
        requestId: "req-1",
        path: "/boom",
        error: "DrizzleQueryError < Error",
        code: "XX_LOST",
        message: "Connection lost in the middle of it",
      });
      expect(lines[0]).not.toMatch(/hash-param|query-secret|token_sha256|Failed query/);
    });

    it("keeps a bug's message and its stack frames, without the lines of its message", async () => {
      thrown = new TypeError("first line\n    at injected (params: secret-in-message)");
      const lines = captureErrorLog();
      await boom.request("/boom");
      const logged = JSON.parse(lines[0] as string) as { error: string; frames: string[] };
      expect(logged.error).toBe("TypeError");
      expect(logged.frames.length).toBeGreaterThan(0);
      expect(logged.frames.every((frame) => frame.startsWith("at "))).toBe(true);
      expect(logged.frames.join("\n")).not.toContain("secret-in-message");
    });
  });
});
