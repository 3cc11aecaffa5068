/**
 * `npm run bench:load -- [--connections 64] [--duration 60] [--max-requests N] [--keep]`
 *
 * A mixed workload against `npm start` itself on real PostgreSQL: creates a fresh database on
 * the server that DATABASE_URL (or TEST_DATABASE_URL) names, starts Regent on it (API, admin
 * page and worker loop in one process, as users run it), and has `connections` clients submit
 * jobs, read them, record retry intents for the failed ones and execute them, until the
 * duration or the request count is reached. Prints requests, p50/p99 per kind and every
 * status, then checks the database: every acknowledged write is there and every promise holds.
 * Exits 1 on any 5xx, any request left unanswered or any broken invariant. The database is
 * dropped afterwards unless --keep.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { checkInvariants } from "../tests/helpers/invariants";
import { LOAD_KINDS, percentile, runMixedLoad, serverErrors } from "../tests/helpers/mixed-load";
import { type StartedRegent, startRegent } from "../tests/helpers/start-server";
import { benchServer } from "./scratch-database";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "64" },
    duration: { type: "string", default: "60" },
    "max-requests": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const connections = Number(values.connections);
const durationSeconds = Number(values.duration);
const maxRequests = values["max-requests"] ? Number(values["max-requests"]) : undefined;
if (
  !Number.isInteger(connections) ||
  connections < 1 ||
  connections > 1024 ||
  !(durationSeconds > 0 && durationSeconds <= 3600) ||
  (maxRequests !== undefined && !(Number.isInteger(maxRequests) && maxRequests > 0))
) {
  console.error(
    "usage: npm run bench:load -- [--connections 1..1024] [--duration 1..3600 seconds] [--max-requests N] [--keep]",
  );
  process.exit(2);
}

const { name, at, admin } = benchServer("regent_load");

const token = `bench-${crypto.randomUUID()}`;
let regent: StartedRegent | undefined;
let failed = false;
await admin(`CREATE DATABASE "${name}"`);
try {
  // `npm start` migrates the fresh database itself, as it would a new deployment's.
  regent = await startRegent({ DATABASE_URL: at(name), REGENT_BOOTSTRAP_ADMIN_TOKEN: token });
  console.log(
    `mixed load on ${regent.url}: ${connections} connections, ${durationSeconds} s` +
      (maxRequests ? ` or ${maxRequests} requests` : "") +
      ` (database ${name})`,
  );
  const result = await runMixedLoad({
    url: regent.url,
    token,
    connections,
    durationMs: durationSeconds * 1000,
    maxRequests,
  });

  const seconds = result.durationMs / 1000;
  console.log(
    `\n${result.requests} requests in ${seconds.toFixed(1)} s: ${(result.requests / seconds).toFixed(0)} requests/s`,
  );
  console.log("kind      requests   p50 ms   p99 ms  statuses");
  for (const kind of LOAD_KINDS) {
    const stats = result.byKind[kind];
    const statuses = Object.entries(stats.statuses)
      .map(([status, n]) => `${status}×${n}`)
      .join(" ");
    const codes = Object.entries(stats.codes)
      .map(([code, n]) => `${code}×${n}`)
      .join(" ");
    console.log(
      `${kind.padEnd(8)} ${String(stats.requests).padStart(9)} ${percentile(stats.latenciesMs, 0.5)
        .toFixed(1)
        .padStart(
          8,
        )} ${percentile(stats.latenciesMs, 0.99).toFixed(1).padStart(8)}  ${statuses}${codes ? ` (${codes})` : ""}`,
    );
  }
  const fiveHundreds = serverErrors(result);
  console.log(`5xx: ${fiveHundreds}; unanswered: ${result.unanswered}`);
  console.log(
    `acknowledged: ${result.acknowledged.jobs.length} jobs, ${result.acknowledged.intents.length} intents`,
  );

  const raw = new pg.Client({ connectionString: at(name) });
  await raw.connect();
  try {
    const { rows } = await raw.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status ORDER BY status",
    );
    console.log(`jobs by status: ${rows.map((r) => `${r.status} ${r.n}`).join(", ")}`);
    const report = await checkInvariants(raw, result.acknowledged);
    console.log(
      `invariants over ${report.jobs} jobs, ${report.intents} intents, ${report.auditEvents} audit events: ` +
        (report.violations.length === 0 ? "all hold" : `\n  ${report.violations.join("\n  ")}`),
    );
    failed = fiveHundreds > 0 || result.unanswered > 0 || report.violations.length > 0;
  } finally {
    await raw.end();
  }
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  await regent?.stop();
  if (regent && /Unhandled|uncaught/i.test(regent.output())) {
    console.error(`npm start reported a crash:\n${regent.output().slice(-4000)}`);
    failed = true;
  }
  if (!values.keep) await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
process.exit(failed ? 1 : 0);
