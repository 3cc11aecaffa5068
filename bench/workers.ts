/**
 * `npm run bench:workers -- [--runs 5]`
 *
 * The two Worker bundles as SST deploys them (minified) and as the workerd tests run them:
 * raw and gzip sizes. Then the API Worker's cold start in workerd: from starting a new
 * workerd process (Miniflare) to the first 200 of `/healthz`, which includes the Neon driver's
 * first round trip to PostgreSQL (the server DATABASE_URL or TEST_DATABASE_URL names, through
 * a local WebSocket proxy, on a fresh database). Prints every run and the median.
 */
import { parseArgs } from "node:util";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { builtInCatalog } from "../functions/execution/generators";
import { bundleWorker, runInWorkerd, withPassword } from "../tests/helpers/workerd";
import { startWsProxy } from "../tests/helpers/ws-proxy";
import { benchServer } from "./scratch-database";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(values.runs);

const { name, at, admin } = benchServer("regent_bench_cold");

await admin(`CREATE DATABASE "${name}"`);
const proxy = await startWsProxy();
try {
  const database = await connect({ url: at(name), max: 1 });
  await migrate(database, { generators: builtInCatalog() });
  await database.close();

  const bundle = await bundleWorker("functions/api.ts", { minify: true });
  const bindings = {
    DATABASE_URL: withPassword(at(name)),
    NEON_WS_PROXY: proxy.address,
    SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
  };
  const times: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const started = performance.now();
    const mf = runInWorkerd(bundle, bindings);
    try {
      await mf.ready;
      const ready = performance.now() - started;
      const response = await mf.dispatchFetch("https://regent.example/healthz");
      await response.text();
      if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
      const ms = performance.now() - started;
      times.push(ms);
      console.log(
        `cold start ${run}: ${ms.toFixed(0)} ms (workerd ready after ${ready.toFixed(0)} ms, then the first /healthz)`,
      );
    } finally {
      await mf.dispose();
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  console.log(
    `cold start median of ${runs}: ${median.toFixed(0)} ms (process start to first 200 of /healthz)`,
  );
} finally {
  await proxy.close();
  await admin(`DROP DATABASE "${name}" WITH (FORCE)`);
}
