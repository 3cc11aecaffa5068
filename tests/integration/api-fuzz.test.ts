import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { GENERATOR_NAME } from "../../functions/domain/jobs";
import { ID_PATTERN } from "../../functions/http/schemas";
import { type ApiApp, createTokens, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failedJob, pendingIntent } from "../helpers/fixtures";

/**
 * Thousands of generated bad requests: wrong types, missing and extra fields, huge and
 * unstorable strings, odd ids, cursors and limits, wrong media types. None may get a 5xx, and
 * none may write a single row anywhere.
 */

const RUNS = 2500;

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;
const ids = { failed: "", intent: "", ownJob: "" };

async function rowCounts(): Promise<Record<string, number>> {
  const { rows: tables } = await t.raw.query(
    `SELECT table_schema, table_name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
     ORDER BY 1, 2`,
  );
  const counts: Record<string, number> = {};
  for (const { table_schema, table_name } of tables) {
    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS n FROM "${table_schema}"."${table_name}"`,
    );
    counts[`${table_schema}.${table_name}`] = rows[0].n;
  }
  return counts;
}

interface BadRequest {
  method: "GET" | "POST";
  path: string;
  who: "admin" | "submitter" | "viewer";
  contentType?: string;
  body?: string;
  idempotencyKey?: string;
  /** A POST that must be refused; a GET may succeed (it writes nothing either way). */
  mustFail: boolean;
}

// Values of every JSON type, and strings PostgreSQL cannot store.
const unstorable = fc
  .tuple(fc.string({ maxLength: 20 }), fc.constantFrom("\u0000", "\ud800", "\udfff", "\udc00x"))
  .map(([s, bad]) => s + bad);
const anyJson = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 50 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
);
const notAString = anyJson.filter((v) => typeof v !== "string");
const hugeString = fc.integer({ min: 2001, max: 20_000 }).map((n) => "x".repeat(n));
const extraKey = (allowed: string[]) =>
  fc
    .string({ minLength: 1, maxLength: 30 })
    .filter((k) => !allowed.includes(k) && k !== "__proto__");
const badGenerator = fc.oneof(
  notAString,
  fc.string({ maxLength: 80 }).filter((s) => !GENERATOR_NAME.test(s)),
  hugeString,
);
const badId = fc.oneof(
  notAString,
  fc.string({ maxLength: 80 }).filter((s) => !ID_PATTERN.test(s)),
  unstorable,
);
const pathId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 80 }),
  fc.stringMatching(/^[a-z0-9]{1,30}$/),
  fc.constantFrom("%00", "..%2f..", "%E0%A4%A", "null", "undefined", "0", "-1", "a".repeat(500)),
);
const deepJson = fc.integer({ min: 40, max: 400 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { d: value };
  return value;
});

/** Turns a valid body into one that is certainly invalid. */
function breakBody(
  valid: Record<string, unknown>,
  fieldBreakers: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<unknown> {
  const fields = Object.keys(valid);
  return fc.oneof(
    // Missing a required field.
    fc
      .constantFrom(...fields.filter((f) => !f.endsWith("?")))
      .map((f) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== f))),
    // A field of the wrong type or value.
    fc
      .constantFrom(...Object.keys(fieldBreakers))
      .chain((f) =>
        (fieldBreakers[f] as fc.Arbitrary<unknown>).map((bad) => ({ ...valid, [f]: bad })),
      ),
    // Fields nobody asked for.
    fc
      .tuple(extraKey(fields), anyJson)
      .map(([k, v]) => JSON.parse(JSON.stringify({ ...valid, [k]: v ?? null }))),
    // Not an object at all.
    fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 20 }), fc.array(anyJson)),
  );
}

const jobBody = breakBody(
  { generator: "demo", input: { text: "hi" } },
  {
    generator: badGenerator,
    input: fc.oneof(
      unstorable.map((s) => ({ text: s })),
      unstorable.map((s) => ({ [s]: 1 })),
      deepJson,
    ),
  },
);

const reasonCodes = ["TRANSIENT_FAILURE", "BAD_INPUT", "IMPROVED_PROMPT", "INFRA_ERROR", "OTHER"];
const badReasonText = fc.oneof(
  notAString,
  fc.constantFrom("", " ", "\n\t  "),
  hugeString,
  unstorable,
);

const intentBody = () =>
  breakBody(
    { sourceJobId: ids.failed, reasonCode: "OTHER", reasonText: "please retry" },
    {
      sourceJobId: badId,
      reasonCode: fc.oneof(
        notAString,
        fc.string({ maxLength: 30 }).filter((s) => !reasonCodes.includes(s)),
      ),
      reasonText: badReasonText,
      sourceOutputRef: fc.oneof(
        fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.integer())),
        hugeString,
        unstorable,
      ),
    },
  );

const rejectBody = breakBody({ reasonText: "no" }, { reasonText: badReasonText });

const filterFields = ["generator", "errorCode", "failedAfter", "failedBefore"];
const badTimestamp = fc.oneof(
  notAString,
  fc.string({ maxLength: 30 }).filter((s) => !/^\d{4}-\d{2}-\d{2}T/.test(s)),
  unstorable,
  fc.constantFrom(
    "0000-01-01T00:00:00Z",
    "2025-02-30T00:00:00Z",
    "2025-01-01T10:00:00",
    "2025-01-01",
  ),
);
const badFilter = fc.oneof(
  fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 20 }), fc.array(anyJson)),
  badGenerator.map((generator) => ({ generator })),
  fc
    .oneof(notAString, unstorable, hugeString, fc.string({ maxLength: 30 }))
    .filter((code) => typeof code !== "string" || !/^[A-Za-z0-9_.:-]{1,100}$/.test(code))
    .map((errorCode) => ({ errorCode })),
  fc
    .tuple(fc.constantFrom("failedAfter", "failedBefore"), badTimestamp)
    .map(([field, value]) => ({ [field]: value })),
  fc.constant({ failedAfter: "2025-01-02T00:00:00Z", failedBefore: "2025-01-01T00:00:00Z" }),
  fc
    .tuple(extraKey(filterFields), anyJson)
    .map(([k, v]) => JSON.parse(JSON.stringify({ [k]: v ?? null }))),
);
const previewBatchBody = breakBody({ filter: {} }, { filter: badFilter });
const createBatchBody = breakBody(
  { filter: {}, previewToken: "0".repeat(64), reasonCode: "OTHER", reasonText: "an incident" },
  {
    filter: badFilter,
    previewToken: fc.oneof(
      notAString,
      fc.string({ maxLength: 80 }).filter((s) => !/^[0-9a-f]{64}$/.test(s)),
      unstorable,
    ),
    reasonText: badReasonText,
    expiresInHours: fc.oneof(
      fc.constantFrom(0, 721, 1.5, -1, "24", null, true),
      fc.integer({ min: 721 }),
    ),
  },
);

const rawBody = (bodies: fc.Arbitrary<unknown>) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: bodies.map((b) => ({ body: JSON.stringify(b), contentType: "application/json" })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom("{", "[1,", '{"a":}', "", "nul\u0000", "{}}", "\ufeff{}")
        .map((b) => ({
          body: b,
          contentType: "application/json",
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          bodies,
          fc.constantFrom(
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
            "image/png",
          ),
        )
        .map(([b, contentType]) => ({ body: JSON.stringify(b) ?? "x", contentType })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 65 * 1024, max: 200 * 1024 }).map((n) => ({
        body: JSON.stringify({ generator: "demo", input: { text: "y".repeat(n) } }),
        contentType: "application/json",
      })),
    },
  );

const idempotencyKey = fc.option(
  fc.oneof(fc.stringMatching(/^[!-~]{1,40}$/), fc.constantFrom("x".repeat(300), "")),
  { nil: undefined },
);

const oddQueryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("0", "-1", "201", "1e2", "0x10", "1.5", " 1", "999999999999", "%00", "null"),
  fc.base64String({ maxLength: 60 }),
);
const listQuery = (params: string[]) =>
  fc
    .array(
      fc.tuple(fc.oneof(fc.constantFrom(...params), fc.string({ maxLength: 12 })), oddQueryValue),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    .map((pairs) => new URLSearchParams(pairs).toString());

function requests(): fc.Arbitrary<BadRequest> {
  const post = (
    path: fc.Arbitrary<string>,
    bodies: fc.Arbitrary<unknown>,
    who: BadRequest["who"],
  ): fc.Arbitrary<BadRequest> =>
    fc.tuple(path, rawBody(bodies), idempotencyKey).map(([p, b, key]) => ({
      method: "POST" as const,
      path: p,
      who,
      ...b,
      ...(key !== undefined ? { idempotencyKey: key } : {}),
      mustFail: true,
    }));
  const get = (path: fc.Arbitrary<string>, who: BadRequest["who"]): fc.Arbitrary<BadRequest> =>
    path.map((p) => ({ method: "GET" as const, path: p, who, mustFail: false }));
  const notOurs = pathId.filter(
    (id) => id !== ids.intent && id !== ids.failed && id !== ids.ownJob,
  );
  return fc.oneof(
    post(fc.constant("/api/jobs"), jobBody, "submitter"),
    post(fc.constant("/api/admin/retry-intents"), intentBody(), "admin"),
    post(fc.constant(`/api/admin/retry-intents/${ids.intent}/reject`), rejectBody, "admin"),
    post(
      notOurs.map((id) => `/api/admin/retry-intents/${encodeURIComponent(id)}/execute`),
      fc.constant(null),
      "admin",
    ),
    post(
      notOurs.map((id) => `/api/admin/retry-intents/${encodeURIComponent(id)}/reject`),
      fc.constant({ reasonText: "no" }),
      "admin",
    ),
    post(fc.constant("/api/admin/retry-batches/preview"), previewBatchBody, "admin"),
    post(fc.constant("/api/admin/retry-batches"), createBatchBody, "admin"),
    post(
      pathId.map((id) => `/api/admin/retry-batches/${encodeURIComponent(id)}/reject`),
      rejectBody,
      "admin",
    ),
    post(
      pathId.map((id) => `/api/admin/retry-batches/${encodeURIComponent(id)}/execute`),
      fc.constant(null),
      "admin",
    ),
    post(
      pathId.map((id) => `/api/admin/retry-batches/${encodeURIComponent(id)}/reject`),
      fc.constant({ reasonText: "no" }),
      "admin",
    ),
    get(
      listQuery(["limit", "cursor"]).map((q) => `/api/admin/retry-batches?${q}`),
      "viewer",
    ),
    get(
      pathId.map((id) => `/api/admin/retry-batches/${encodeURIComponent(id)}`),
      "viewer",
    ),
    get(
      listQuery(["status", "generator", "limit", "cursor"]).map((q) => `/api/admin/jobs?${q}`),
      "viewer",
    ),
    get(
      listQuery(["jobId", "status", "limit", "cursor"]).map((q) => `/api/admin/retry-intents?${q}`),
      "viewer",
    ),
    get(
      listQuery(["subjectId", "type", "limit", "cursor"]).map((q) => `/api/admin/audit?${q}`),
      "viewer",
    ),
    get(
      pathId.map((id) => `/api/admin/jobs/${encodeURIComponent(id)}`),
      "viewer",
    ),
    get(
      pathId.map((id) => `/api/admin/retry-intents/${encodeURIComponent(id)}`),
      "viewer",
    ),
    get(
      pathId.map((id) => `/api/jobs/${encodeURIComponent(id)}`),
      "submitter",
    ),
  );
}

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db);
  tokens = await createTokens(t.db);
  ids.failed = (await failedJob(t.db)).id;
  ids.intent = await pendingIntent(t.db, "pending");
});

describe("fuzzing the API with bad requests", () => {
  it(`answers ${RUNS} generated bad requests without a 5xx and without writing a row`, async () => {
    const before = await rowCounts();
    const statuses = new Map<number, number>();
    let sent = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(requests(), async (request) => {
        const headers: Record<string, string> = {
          authorization: `Bearer ${tokens[request.who]}`,
        };
        if (request.contentType) headers["content-type"] = request.contentType;
        if (request.idempotencyKey !== undefined) {
          headers["idempotency-key"] = request.idempotencyKey;
        }
        const response = await app.request(request.path, {
          method: request.method,
          headers,
          ...(request.body !== undefined ? { body: request.body } : {}),
        });
        sent++;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const text = await response.text();
        expect(response.status, `${request.method} ${request.path}: ${text}`).toBeLessThan(500);
        if (request.mustFail) expect(response.status, text).toBeGreaterThanOrEqual(400);
        if (response.status >= 400) {
          const body = JSON.parse(text);
          expect(body.error.requestId).toBe(response.headers.get("x-request-id"));
        }
      }),
      { numRuns: RUNS },
    );
    const seconds = (performance.now() - started) / 1000;
    expect(sent).toBeGreaterThanOrEqual(2000);
    expect(await rowCounts()).toEqual(before);
    console.info(
      `fuzz: ${sent} requests in ${seconds.toFixed(1)}s (${Math.round(sent / seconds)}/s); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`,
    );
  });
});
