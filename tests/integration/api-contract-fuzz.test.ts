import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failedJobs } from "../helpers/fixtures";
import { type Schema, SchemaArbitraries } from "../helpers/json-schema-arbitrary";

/**
 * The contract, fuzzed: every operation of the served /api/openapi.json gets requests generated
 * from its own schemas (valid and invalid bodies, queries, path ids and headers, raw garbage,
 * wrong media types, oversized bodies) from callers of every kind. Every answer must be one the
 * document declares for that operation, with a body and headers its schemas accept (checked by
 * a JSON Schema 2020-12 validator), never a 5xx, and a 4xx must leave the database as it was.
 * A request the schemas accept is not refused for its shape; one they refuse never succeeds.
 * The invalid values include what JSON Schema cannot say but the server refuses all the same:
 * JSON nested too deep, NUL and unpaired surrogates inside a job's input. Callers without valid
 * credentials come from a few addresses and meet the failed-authentication limit: an address
 * is refused (429) exactly once it has failed the limit's number of times, and callers with
 * valid credentials, from an address of their own, never are.
 *
 * FUZZ_SEED=<n> repeats a run; FUZZ_RUNS=<n> changes its length.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 2400);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/**
 * Failed authentications an address may make: small, over a window longer than any run, so
 * that which requests are refused depends on the seed alone, and both answers are common.
 */
const AUTH_FAILURES = 4;
/** The addresses callers without valid credentials send from; valid callers have their own. */
const STRANGER_ADDRESSES = 32;
const MEMBER_ADDRESS = "192.0.2.1";

type Who = "admin" | "viewer" | "submitter" | "none" | "bad" | "revoked";
const ROLE_HOLDERS: Record<string, Who[]> = {
  admin: ["admin"],
  viewer: ["admin", "viewer"],
  submitter: ["admin", "submitter"],
};

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: Schema;
}

interface HeaderSpec {
  required?: boolean;
  schema: Schema;
}

interface Response {
  headers?: Record<string, HeaderSpec>;
  content?: Record<string, { schema: Schema }>;
}

interface Operation {
  method: string;
  path: string;
  operationId: string;
  role: string | undefined;
  parameters: Parameter[];
  body: Schema | undefined;
  responses: Record<string, Response>;
}

interface Generated {
  who: Who;
  /** Which of the strangers' addresses the request comes from, when it is a stranger's. */
  from: number;
  pathValues: Record<string, { raw: string; valid: boolean }>;
  query: [string, string][];
  headers: Record<string, string>;
  body?: { text: string; contentType: string; value?: unknown; kind: "json" | "raw" | "big" };
}

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;
let doc: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Schema> };
};
const pools = {
  jobs: [] as string[],
  ownJobs: [] as string[],
  intents: [] as string[],
  batches: [] as string[],
};

/** Refs into `$defs`, so that each schema of the document compiles on its own. */
function standalone(schema: unknown): Schema {
  return JSON.parse(JSON.stringify(schema).replaceAll("#/components/schemas/", "#/$defs/"));
}

let defs: Record<string, Schema>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
const queryAjv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
addFormats(ajv);
addFormats(queryAjv);
const compiled = new Map<string, ValidateFunction>();
function validator(key: string, schema: Schema, coerce = false): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = (coerce ? queryAjv : ajv).compile({ ...schema, $defs: defs });
    compiled.set(key, fn);
  }
  return fn;
}

function operations(): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      operationId: op.operationId as string,
      role: op["x-regent-role"] as string | undefined,
      parameters: standalone(op.parameters ?? []) as unknown as Parameter[],
      body: (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)
        ?.content?.["application/json"]?.schema
        ? standalone(
            (op.requestBody as { content: Record<string, { schema: Schema }> }).content[
              "application/json"
            ]?.schema,
          )
        : undefined,
      responses: standalone(op.responses) as unknown as Record<string, Response>,
    })),
  );
}

const live = (pool: string[], fallback: string) =>
  fc.nat().map((i) => (pool.length > 0 ? (pool[i % pool.length] as string) : fallback));

function poolFor(path: string): string[] {
  if (path.startsWith("/api/jobs/")) return pools.ownJobs;
  if (path.includes("/jobs/")) return pools.jobs;
  if (path.includes("/retry-intents/")) return pools.intents;
  return pools.batches;
}

function requestArbitrary(op: Operation, arbs: SchemaArbitraries): fc.Arbitrary<Generated> {
  const holders = op.role ? (ROLE_HOLDERS[op.role] ?? []) : ["none" as Who];
  const who = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...holders) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Who>("admin", "viewer", "submitter", "none", "bad", "revoked"),
    },
  );
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const pathValues = fc.record(
    Object.fromEntries(
      pathParams.map((p) => [
        p.name,
        fc.oneof(
          {
            weight: 5,
            arbitrary: live(poolFor(op.path), "abc").map((raw) => ({ raw, valid: true })),
          },
          {
            weight: 2,
            // `.` and `..` (also as %2E) are steps in a URL's path, never a segment.
            arbitrary: (arbs.valid(p.schema) as fc.Arbitrary<string>)
              .filter((s) => s !== "." && s !== "..")
              .map((s) => ({ raw: encodeURIComponent(s), valid: true })),
          },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom("%00", "%E0%A4%A", "..%2F..", "%20", "a".repeat(600), "%F0%9F%98%80")
              .map((raw) => ({ raw, valid: true })),
          },
        ),
      ]),
    ),
  ) as fc.Arbitrary<Generated["pathValues"]>;
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const declaredQuery = fc
    .subarray(queryParams)
    .chain((chosen) =>
      fc.tuple(
        ...chosen.map((p) =>
          fc
            .oneof(
              { weight: 4, arbitrary: arbs.valid(p.schema) },
              { weight: 1, arbitrary: arbs.invalid(p.schema) },
            )
            .map(
              (v) => [p.name, typeof v === "string" ? v : JSON.stringify(v)] as [string, string],
            ),
        ),
      ),
    );
  const query = fc.oneof(
    { weight: 5, arbitrary: declaredQuery },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          declaredQuery,
          fc.constantFrom("foo", "expand", "id", "debug", "LIMIT"),
          fc.string({ maxLength: 8 }),
        )
        .map(([pairs, name, value]) => [...pairs, [name, value] as [string, string]]),
    },
  );
  const headerParams = op.parameters.filter((p) => p.in === "header");
  const headers = fc
    .tuple(
      ...headerParams.map((p) =>
        fc
          .oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            { weight: 3, arbitrary: arbs.valid(p.schema) },
            {
              weight: 1,
              arbitrary: fc.constantFrom("", " ", "x".repeat(300), "a b", "é", "\u00ff"),
            },
          )
          .map((v) => [p.name, v] as const),
      ),
    )
    .map((pairs) =>
      Object.fromEntries(pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])),
    );
  const body: fc.Arbitrary<Generated["body"]> = op.body
    ? fc.oneof(
        {
          weight: 6,
          arbitrary: arbs.valid(op.body).map((value) => ({
            text: JSON.stringify(value),
            contentType: "application/json",
            value,
            kind: "json" as const,
          })),
        },
        {
          weight: 5,
          arbitrary: arbs.invalid(op.body).map((value) => ({
            text: JSON.stringify(value) ?? "null",
            contentType: "application/json",
            value,
            kind: "json" as const,
          })),
        },
        {
          weight: 1,
          arbitrary: fc
            .tuple(
              fc.constantFrom("{", "[1,", "", "\ufeff{}", '{"a":1}}', "nul\u0000"),
              fc.constantFrom(
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
              ),
            )
            .map(([text, contentType]) => ({ text, contentType, kind: "raw" as const })),
        },
        {
          weight: 1,
          arbitrary: fc.integer({ min: 65 * 1024, max: 128 * 1024 }).map((n) => ({
            text: JSON.stringify({ reasonText: "r".repeat(n) }),
            contentType: "application/json",
            kind: "big" as const,
          })),
        },
      )
    : op.method === "POST"
      ? fc.option(
          fc.constantFrom(
            { text: "{}", contentType: "application/json", kind: "raw" as const },
            { text: "x".repeat(70 * 1024), contentType: "text/plain", kind: "big" as const },
          ),
          { nil: undefined },
        )
      : fc.constant(undefined);
  const from = fc.nat({ max: STRANGER_ADDRESSES - 1 });
  return fc
    .record({ who, from, pathValues, query, headers, body })
    .map((g) => ({ ...g, ...(g.body === undefined ? { body: undefined } : {}) }) as Generated);
}

/** What the document says of the request: does it match every schema of the operation? */
function schemaValid(op: Operation, request: Generated): boolean {
  const queryParams = op.parameters.filter((p) => p.in === "query");
  const names = request.query.map(([k]) => k);
  if (new Set(names).size !== names.length) return false;
  const query = Object.fromEntries(request.query);
  // An integer in a query is written as its decimal digits (`1e2`, `0x10`, ` 1` are not one),
  // which a validator's type coercion would not tell.
  for (const p of queryParams) {
    const value = query[p.name];
    if (p.schema.type === "integer" && value !== undefined && !/^-?[0-9]+$/.test(value)) {
      return false;
    }
  }
  const querySchema: Schema = {
    type: "object",
    properties: Object.fromEntries(queryParams.map((p) => [p.name, p.schema])),
    additionalProperties: false,
  };
  if (!validator(`${op.operationId}:query`, querySchema, true)(query)) return false;
  for (const p of op.parameters.filter((p) => p.in === "header")) {
    const value = request.headers[p.name];
    if (value !== undefined && !validator(`${op.operationId}:header:${p.name}`, p.schema)(value)) {
      return false;
    }
  }
  if (op.body) {
    if (request.body?.kind !== "json") return false;
    if (!validator(`${op.operationId}:body`, op.body)(request.body.value)) return false;
  }
  if (request.body?.kind === "big") return false;
  return true;
}

const SNAPSHOT_EXCLUDED = new Set(["public.auth_refusals", "public.auth_denials"]);
let snapshotSql = "";

/**
 * Every table's row count and newest row version (max xmin): an insert, update or delete shows.
 * Left out, by design: counted refusals of anonymous requests (auth_refusals), and counted
 * denials of known callers refused a role (auth_denials) with their AUTH_DENIED audit rows: all
 * are what a refusal is meant to record.
 */
async function snapshot(): Promise<string> {
  if (!snapshotSql) {
    const { rows } = await t.raw.query(
      `SELECT table_schema, table_name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1, 2`,
    );
    snapshotSql = rows
      .map(({ table_schema, table_name }) => `${table_schema}.${table_name}`)
      .filter((name) => !SNAPSHOT_EXCLUDED.has(name))
      .map((name) => {
        const [schema, table] = name.split(".");
        const where = name === "public.audit_events" ? " WHERE type <> 'AUTH_DENIED'" : "";
        return `SELECT '${name}' AS t, count(*)::int AS n, coalesce(max(xmin::text::bigint), 0)::text AS x FROM "${schema}"."${table}"${where}`;
      })
      .join(" UNION ALL ");
  }
  const { rows } = await t.raw.query(snapshotSql);
  return JSON.stringify(rows);
}

/** A 400 the schemas cannot foresee: rules they describe in words only. */
function unforeseeable400(body: {
  error?: { code?: string; details?: Record<string, unknown> };
}): boolean {
  const details = body.error?.details ?? {};
  // Domain rules: a cursor this API did not issue, a generator the catalog does not hold or an
  // input its schema refuses (the catalog is data, not document), an override with a reason
  // code other than OTHER.
  if (body.error?.code === "UNKNOWN_GENERATOR") return true;
  // A batch filter's field of the other kind (the filter's description says so in words).
  if (String(details.field ?? "").startsWith("filter.")) return true;
  // (A supersession's reason code that says nothing changed is one more.)
  if (
    ["cursor", "generator", "overrideBudget", "input", "reasonCode"].includes(
      details.field as string,
    )
  ) {
    return true;
  }
  const issues = (details.issues ?? []) as { path: (string | number)[]; message: string }[];
  return (
    issues.length > 0 &&
    issues.every(
      (issue) =>
        issue.path.includes("failedBefore") ||
        issue.path.includes("completedBefore") ||
        // A window's end before its start (the audit log's `before` after its `after`), and an
        // actor with a control character (its description says so).
        (issue.path[0] === "before" && issue.message === "must be later than after") ||
        (issue.path[0] === "actor" && issue.message === "has a control character") ||
        (issue.path[0] === "input" && /nested|NUL/.test(issue.message)),
    )
  );
}

function describeRequest(op: Operation, url: string, request: Generated): string {
  return `${op.method} ${url} as ${request.who} headers=${JSON.stringify(request.headers)} body=${(request.body?.text ?? "").slice(0, 300)} (${request.body?.contentType ?? "none"})`;
}

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db, {
    AUTH_FAILURE_LIMIT: String(AUTH_FAILURES),
    AUTH_FAILURE_WINDOW_SECONDS: "86400",
  });
  tokens = await createTokens(t.db);
  pools.jobs.push(...(await failedJobs(t.db, 40)).map((job) => job.id));
  const served = await app.request("/api/openapi.json");
  doc = await served.json();
  defs = standalone(doc.components.schemas) as unknown as Record<string, Schema>;
});

describe("the OpenAPI document as a contract", () => {
  it("compiles: every schema it holds is a valid JSON Schema 2020-12", () => {
    for (const op of operations()) {
      if (op.body) validator(`${op.operationId}:body`, op.body);
      for (const [status, response] of Object.entries(op.responses)) {
        const schema = response.content?.["application/json"]?.schema;
        if (schema) validator(`${op.operationId}:${status}`, schema);
      }
    }
    expect(compiled.size).toBeGreaterThan(40);
  });

  it("agrees with the server on reason texts, instants, unknown query parameters and cursors", async () => {
    const [job] = await failedJobs(t.db, 1);
    const body = defs.CreateRetryIntent as Schema;
    const accepts = validator("edge:CreateRetryIntent", body);
    const intent = (reasonText: string) => ({
      sourceJobId: job?.id,
      reasonCode: "OTHER",
      reasonText,
    });
    const cases: [string, boolean][] = [
      [`${"x".repeat(2000)}${" ".repeat(10)}`, true],
      [`${"x".repeat(2001)}${" ".repeat(9)}`, false],
      [`\n  ${"x".repeat(1999)}\t`, true],
      ["   ", false],
      ["", false],
      ["a\u0000b", false],
      ["a\ud800b", false],
      [`${"y".repeat(2000)}${" ".repeat(2001)}`, false],
    ];
    for (const [reasonText, ok] of cases) {
      expect(accepts(intent(reasonText)), JSON.stringify(reasonText.slice(0, 20))).toBe(ok);
      const response = await call(app, "POST", "/api/admin/retry-intents", {
        token: tokens.admin,
        body: intent(reasonText),
      });
      expect(response.status, JSON.stringify(response.body).slice(0, 300)).toBe(ok ? 201 : 400);
      if (ok) {
        expect(response.body.intent.reasonText).toBe(reasonText.trim());
        await call(app, "POST", `/api/admin/retry-intents/${response.body.intent.id}/reject`, {
          token: tokens.admin,
          body: { reasonText: "edge case" },
        });
      }
    }
    const preview = defs.PreviewRetryBatch as Schema;
    const acceptsPreview = validator("edge:PreviewRetryBatch", preview);
    for (const instant of [
      "2025-01-01T10:00:00Z",
      "2025-01-01T10:00:00.123456+05:30",
      "2024-02-29T00:00:00Z",
      "0002-01-01T00:00:00-23:59",
      "9998-12-31T23:59:59+23:59",
      "2025-02-29T00:00:00Z",
      "2025-02-30T00:00:00Z",
      "0000-01-01T00:00:00Z",
      "0001-01-01T00:00:00+01:00",
      "9999-12-31T23:59:59-01:00",
      "2025-06-30T23:59:60Z",
      "2025-01-01T10:00:00z",
      "2025-01-01t10:00:00Z",
      "2025-01-01 10:00:00Z",
      "2025-01-01T10:00Z",
      "2025-01-01T10:00:00",
      "2025-01-01T10:00:00+0100",
    ]) {
      const body = { filter: { failedAfter: instant } };
      const response = await call(app, "POST", "/api/admin/retry-batches/preview", {
        token: tokens.admin,
        body,
      });
      expect(response.status, instant).toBe(acceptsPreview(body) ? 200 : 400);
    }
    for (const path of [
      `/api/admin/jobs/${job?.id}?expand=1`,
      `/api/jobs/${job?.id}?x=`,
      "/api/admin/retry-batches/abc?limit=1",
      "/api/admin/retry-intents/abc/execute?force=true",
      "/healthz?verbose=1",
      "/api/admin/jobs?cursor=%21%21",
      "/api/admin/jobs?limit=1e2",
    ]) {
      const method = path.includes("/execute") ? "POST" : "GET";
      const response = await call(app, method, path, { token: tokens.admin });
      expect(response.status, path).toBe(400);
      expect(response.body.error.code).toBe("VALIDATION_FAILED");
    }
  });

  it(`holds for ${RUNS} requests generated from it (seed ${SEED})`, async () => {
    const ops = operations();
    const bearer: Record<Who, string | undefined> = {
      admin: tokens.admin,
      viewer: tokens.viewer,
      submitter: tokens.submitter,
      revoked: tokens.revoked,
      bad: "rg_not-a-token-of-ours",
      none: undefined,
    };
    const arbs = new SchemaArbitraries(defs, {
      sourceJobId: live(pools.jobs, "nojob"),
    });
    const byId = new Map(ops.map((op) => [op.operationId, op]));
    const perOperation = fc.oneof(
      ...ops.map((op) =>
        requestArbitrary(op, arbs).map((r) => ({ operationId: op.operationId, r })),
      ),
    );
    const statuses = new Map<string, number>();
    /** Failed authentications per address, as the limit should have counted them. */
    const failures = new Map<string, number>();
    let sent = 0;
    let before = await snapshot();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(perOperation, async ({ operationId, r }) => {
        const op = byId.get(operationId) as Operation;
        let url = op.path.replace(
          /\{(\w+)\}/g,
          (_, name: string) => r.pathValues[name]?.raw ?? "x",
        );
        const search = new URLSearchParams(r.query).toString();
        if (search) url += `?${search}`;
        const member = ["admin", "viewer", "submitter"].includes(r.who);
        const address = member ? MEMBER_ADDRESS : `198.51.100.${r.from}`;
        const headers: Record<string, string> = {
          "user-agent": "contract-fuzz",
          ...r.headers,
          "cf-connecting-ip": address,
        };
        const token = bearer[r.who];
        if (token) headers.authorization = `Bearer ${token}`;
        if (r.body) headers["content-type"] = r.body.contentType;
        const response = await app.request(url, {
          method: op.method,
          headers,
          ...(r.body ? { body: r.body.text } : {}),
        });
        sent++;
        const key = `${op.operationId} ${response.status}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        const text = await response.text();
        const what = () =>
          `${describeRequest(op, url, r)}\n→ ${response.status} ${text.slice(0, 600)}`;

        expect(response.status, what()).toBeLessThan(500);
        const declared = op.responses[String(response.status)];
        expect(declared, `undeclared status: ${what()}`).toBeDefined();
        const spec = declared as Response;

        const contentType = response.headers.get("content-type") ?? "";
        const media = Object.keys(spec.content ?? {});
        if (media.length > 0) {
          expect(
            media.some((m) => contentType.startsWith(m)),
            `content type ${contentType}: ${what()}`,
          ).toBe(true);
        }
        let body: unknown = text;
        const jsonSchema = spec.content?.["application/json"]?.schema;
        if (jsonSchema) {
          body = JSON.parse(text);
          const validate = validator(`${op.operationId}:${response.status}`, jsonSchema);
          expect(validate(body), `${ajv.errorsText(validate.errors)}: ${what()}`).toBe(true);
        }
        if (response.status >= 400 && jsonSchema) {
          const requestId = (body as { error: { requestId: string } }).error.requestId;
          expect(requestId, what()).toBe(response.headers.get("x-request-id"));
        }
        for (const [name, header] of Object.entries(spec.headers ?? {})) {
          const value = response.headers.get(name);
          if (value === null) {
            expect(header.required, `missing header ${name}: ${what()}`).not.toBe(true);
            continue;
          }
          const validate = validator(`header:${name}`, header.schema);
          expect(validate(value), `header ${name}=${value}: ${what()}`).toBe(true);
        }

        const holders = op.role ? (ROLE_HOLDERS[op.role] ?? []) : undefined;
        const authenticated = !holders || member;
        const allowed = !holders || holders.includes(r.who);
        if (member) expect(response.status, what()).not.toBe(429);
        if (!authenticated) {
          const failed = failures.get(address) ?? 0;
          const limited = failed >= AUTH_FAILURES;
          expect(limited ? [413, 429] : [401, 413], what()).toContain(response.status);
          // Only a credential that was presented and refused counts, never a missing one.
          if (response.status === 401 && (r.who === "bad" || r.who === "revoked")) {
            failures.set(address, failed + 1);
          }
        } else if (!allowed) expect([403, 413], what()).toContain(response.status);
        else if (schemaValid(op, r)) {
          if (response.status === 400) {
            expect(
              unforeseeable400(body as never),
              `a request the document accepts was refused: ${what()}`,
            ).toBe(true);
          }
          expect([413, 415], what()).not.toContain(response.status);
        } else {
          expect(
            response.status,
            `a request the document refuses was accepted: ${what()}`,
          ).toBeGreaterThanOrEqual(400);
        }

        const after = await snapshot();
        if (response.status >= 400)
          expect(after, `a ${response.status} wrote: ${what()}`).toBe(before);
        before = after;
        if (response.status < 300 && body && typeof body === "object") {
          const created = body as {
            job?: { id: string };
            intent?: { id: string };
            batch?: { id: string };
          };
          if (response.status === 201 && created.job && op.path === "/api/jobs")
            pools.ownJobs.push(created.job.id);
          if (created.job) pools.jobs.push(created.job.id);
          if (created.intent) pools.intents.push(created.intent.id);
          if (created.batch) pools.batches.push(created.batch.id);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const seconds = (performance.now() - started) / 1000;
    expect(sent).toBeGreaterThanOrEqual(2000);
    const byStatus = new Map<number, number>();
    for (const [k, n] of statuses) {
      const status = Number(k.split(" ")[1]);
      byStatus.set(status, (byStatus.get(status) ?? 0) + n);
    }
    // Every operation was reached, and with success as well as refusal.
    for (const op of ops) {
      const reached = [...statuses.keys()].filter((k) => k.startsWith(`${op.operationId} `));
      expect(reached.length, op.operationId).toBeGreaterThan(0);
    }
    console.info(
      `contract fuzz: seed ${SEED}, ${sent} requests in ${seconds.toFixed(1)}s; statuses ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`,
    );
  });
});
