import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessTeam } from "../helpers/access";
import {
  type ApiResponse,
  call,
  createTokens,
  type JsonBody,
  type Tokens,
  testApp,
} from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { countingDatabase, type RoundTripCounter } from "../helpers/round-trips";
import { type StartedRegent, startRegent } from "../helpers/start-server";

/**
 * The API's failed-authentication limit per client address: through `app.request()` with the
 * Worker's way of knowing the address (`Cf-Connecting-IP`), and through `npm start` over real
 * sockets from addresses of 127.0.0.0/8, the socket's address being the only one it trusts.
 * Limits are configured small, and windows short, so that nothing waits long.
 */

let t: TestDatabase;
let counting: RoundTripCounter;
let tokens: Tokens;

beforeAll(async () => {
  t = await freshDatabase();
  counting = await countingDatabase(t);
  tokens = await createTokens(t.db);
});

/** A server over the counting handle whose limit is `failures` per `windowSeconds`. */
function limitedApp(failures: number, windowSeconds = 60) {
  return testApp(counting.db, {
    AUTH_FAILURE_LIMIT: String(failures),
    AUTH_FAILURE_WINDOW_SECONDS: String(windowSeconds),
  });
}

/** What a request from `ip` carries, as Cloudflare's edge would set it. */
const from = (ip: string) => ({ headers: { "cf-connecting-ip": ip } });

/** The refusals counted for an address, per reason. */
async function refusals(ip: string): Promise<Record<string, number>> {
  const { rows } = await t.raw.query<{ reason: string; count: number }>(
    "SELECT reason, sum(count)::int AS count FROM auth_refusals WHERE ip = $1 GROUP BY reason",
    [ip],
  );
  return Object.fromEntries(rows.map((row) => [row.reason, row.count]));
}

function expectLimited(response: ApiResponse<JsonBody>, windowSeconds: number): number {
  expect(response.status, JSON.stringify(response.body)).toBe(429);
  const retryAfter = response.headers.get("retry-after") ?? "";
  expect(retryAfter).toMatch(/^[0-9]+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(windowSeconds);
  expect(response.body.error).toMatchObject({
    code: "TOO_MANY_REQUESTS",
    details: { retryAfterSeconds: Number(retryAfter) },
    requestId: response.headers.get("x-request-id"),
  });
  expect(response.body.error.message).toMatch(/too many failed authentications/);
  expect(response.headers.get("www-authenticate")).toBeNull();
  return Number(retryAfter);
}

describe("the failed-authentication limit, per Cf-Connecting-IP", () => {
  it("answers 429 TOO_MANY_REQUESTS with Retry-After once an address has failed N times, before any statement", async () => {
    const app = limitedApp(4);
    const ip = "127.0.0.3";
    const failures = [
      { token: "rgt_never-issued-0123456789" },
      { token: tokens.revoked },
      { headers: { authorization: "Basic dXNlcjpwYXNz" } },
      { token: "rgt_never-issued-9876543210" },
    ];
    for (const failure of failures) {
      const response = await call(app, "GET", "/api/admin/jobs", {
        ...failure,
        headers: { ...failure.headers, "cf-connecting-ip": ip },
      });
      expect(response.status).toBe(401);
    }
    const { result: limited, count } = await counting.measure(() =>
      call(app, "GET", "/api/admin/jobs", { token: "rgt_one-more-guess", ...from(ip) }),
    );
    expectLimited(limited, 60);
    // Refused before the credential was looked at, and not even counted: no statement at all.
    expect(count).toBe(0);
    // The right token is refused too while the address is limited, on every signed-in route.
    expectLimited(
      await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from(ip) }),
      60,
    );
    expectLimited(await call(app, "GET", "/metrics", { token: tokens.admin, ...from(ip) }), 60);
    // What is public stays public.
    expect((await call(app, "GET", "/api/openapi.json", from(ip))).status).toBe(200);
    // The failures were counted as refusals, each under its own reason; the 429s were not.
    expect(await refusals(ip)).toEqual({
      "token:unknown": 2,
      [`token:revoked:${tokens.actors.revoked.slice("token:".length)}`]: 1,
      "token:malformed": 1,
    });
  });

  it("never locks out a correct token from another address", async () => {
    const app = limitedApp(3);
    const prefix = tokens.admin.slice(0, 12);
    for (let i = 0; i < 3; i++) {
      const guess = await call(app, "GET", "/api/admin/jobs", {
        token: `${prefix}-wrong-${i}`,
        ...from("127.0.0.3"),
      });
      expect(guess.status).toBe(401);
    }
    expectLimited(
      await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from("127.0.0.3") }),
      60,
    );
    // Meanwhile the token's holder, from its own address, is served as always.
    for (let i = 0; i < 3; i++) {
      const own = await call(app, "GET", "/api/admin/jobs", {
        token: tokens.admin,
        ...from("127.0.0.4"),
      });
      expect(own.status).toBe(200);
    }
    expectLimited(
      await call(app, "GET", "/api/admin/jobs", { token: "rgt_again", ...from("127.0.0.3") }),
      60,
    );
  });

  it("counts failures only: not successes, not a missing credential, not a role refused", async () => {
    const app = limitedApp(3);
    const ip = "127.0.0.5";
    for (let i = 0; i < 10; i++) {
      expect(
        (await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from(ip) })).status,
      ).toBe(200);
      expect((await call(app, "GET", "/api/admin/jobs", from(ip))).status).toBe(401);
      expect(
        (await call(app, "GET", "/api/admin/jobs", { token: tokens.submitter, ...from(ip) }))
          .status,
      ).toBe(403);
    }
    // Two failures leave the address one short of its limit: still served.
    for (let i = 0; i < 2; i++) {
      expect(
        (await call(app, "GET", "/api/admin/jobs", { token: `rgt_x${i}`, ...from(ip) })).status,
      ).toBe(401);
    }
    expect(
      (await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from(ip) })).status,
    ).toBe(200);
    // The third failure is the limit's.
    expect(
      (await call(app, "GET", "/api/admin/jobs", { token: "rgt_x2", ...from(ip) })).status,
    ).toBe(401);
    expectLimited(
      await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from(ip) }),
      60,
    );
  });

  it("counts an Access token that fails verification, and lets a valid one in from elsewhere", async () => {
    const team = await accessTeam({ admins: "ops@example.com" });
    const app = testApp(
      counting.db,
      { ...team.env, AUTH_FAILURE_LIMIT: "2" },
      { accessKeys: team.keys },
    );
    const other = await accessTeam({ admins: "ops@example.com" });
    const forged = await other.tokenFor("ops@example.com");
    for (const jwt of ["not.a.jwt", forged]) {
      expect(
        (await call(app, "GET", "/api/admin/jobs", { accessJwt: jwt, ...from("127.0.0.6") }))
          .status,
      ).toBe(401);
    }
    const valid = await team.tokenFor("ops@example.com");
    expectLimited(
      await call(app, "GET", "/api/admin/jobs", { accessJwt: valid, ...from("127.0.0.6") }),
      60,
    );
    expect(
      (await call(app, "GET", "/api/admin/jobs", { accessJwt: valid, ...from("127.0.0.7") }))
        .status,
    ).toBe(200);
  });

  it("lets the address in again once its failures have left the window", async () => {
    const app = limitedApp(2, 1);
    const ip = "127.0.0.8";
    for (const guess of ["rgt_a", "rgt_b"]) {
      expect(
        (await call(app, "GET", "/api/admin/jobs", { token: guess, ...from(ip) })).status,
      ).toBe(401);
    }
    const retryAfter = expectLimited(
      await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from(ip) }),
      1,
    );
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect(
      (await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from(ip) })).status,
    ).toBe(200);
  });

  it("limits requests without an address together, apart from every address", async () => {
    const app = limitedApp(2);
    for (const guess of ["rgt_a", "rgt_b"]) {
      expect((await call(app, "GET", "/api/admin/jobs", { token: guess })).status).toBe(401);
    }
    expectLimited(await call(app, "GET", "/api/admin/jobs", { token: tokens.admin }), 60);
    expect(
      (await call(app, "GET", "/api/admin/jobs", { token: tokens.admin, ...from("127.0.0.9") }))
        .status,
    ).toBe(200);
  });
});

describe("the failed-authentication limit under npm start, per socket address", () => {
  const adminToken = `limit-${crypto.randomUUID()}`;
  let database: TestDatabase;
  let regent: StartedRegent;

  beforeAll(async () => {
    database = await freshDatabase();
    regent = await startRegent({
      DATABASE_URL: database.url,
      REGENT_BOOTSTRAP_ADMIN_TOKEN: adminToken,
      WORKER_INTERVAL_MS: "3600000",
      AUTH_FAILURE_LIMIT: "3",
      AUTH_FAILURE_WINDOW_SECONDS: "2",
    });
  });
  afterAll(async () => {
    await regent?.stop();
  });

  /** One request over a connection of its own from `localAddress`, a loopback address. */
  function send(
    localAddress: string,
    token: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: JsonBody }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${regent.url}/api/admin/jobs`,
        {
          localAddress,
          agent: false,
          headers: { authorization: `Bearer ${token}`, ...headers },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  it("limits the address the failures came from, whatever header it sends, and frees it after the window", async () => {
    // Headers naming other addresses change nothing: the process faces its clients directly.
    for (const claimed of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
      const guess = await send("127.0.0.3", `rgt_guess-${claimed}`, {
        "cf-connecting-ip": claimed,
        "x-forwarded-for": claimed,
      });
      expect(guess.status).toBe(401);
    }
    const limited = await send("127.0.0.3", adminToken);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("TOO_MANY_REQUESTS");
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(limited.body.error.details).toEqual({ retryAfterSeconds: retryAfter });
    // The right token from another address is served at the same moment.
    expect((await send("127.0.0.4", adminToken)).status).toBe(200);
    // Counted under the socket's address, never under an address a header claimed.
    const { rows } = await database.raw.query(
      "SELECT ip, sum(count)::int AS count FROM auth_refusals GROUP BY ip",
    );
    expect(rows).toEqual([{ ip: "127.0.0.3", count: 3 }]);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 50));
    expect((await send("127.0.0.3", adminToken)).status).toBe(200);
  });
});
