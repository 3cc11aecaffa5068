import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import type { Database } from "../../db/types";
import { jobDetail } from "../../functions/domain/read-models";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { itKeepsTheDatabaseContract } from "../helpers/driver-contract";
import { admin, failedJob } from "../helpers/fixtures";
import { startWsProxy } from "../helpers/ws-proxy";

/** The Workers driver path — Neon serverless over WebSocket, NEON_WS_PROXY — against real PostgreSQL. */
let t: TestDatabase;
let neon: Database;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  neon = await connect({ url: t.url, driver: "neon", wsProxy: proxy.address, max: 10 });
});
afterAll(async () => {
  await neon?.close();
  await proxy?.close();
});

describe("the Neon serverless driver through NEON_WS_PROXY", () => {
  it("runs the retry service's interactive transaction", async () => {
    expect(neon.kind).toBe("neon");
    const original = await failedJob(neon.db);
    const intent = await createRetryIntent(neon.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "via neon",
    });
    const { job } = await createRetryJobFromIntent(neon.db, admin, intent.id);
    expect((await jobDetail(t.db, job.id)).lineage.map((l) => l.job.id)).toEqual([
      original.id,
      job.id,
    ]);
  });

  itKeepsTheDatabaseContract(
    () => neon,
    () => t,
  );
});
