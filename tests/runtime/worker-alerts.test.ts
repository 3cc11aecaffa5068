import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { bundleWorker, runInWorkerd, withPassword } from "../helpers/workerd";
import { startWsProxy } from "../helpers/ws-proxy";

/**
 * The alert digest from the Cron Worker as Cloudflare runs it: fetch and Web Crypto in workerd,
 * signing a digest that a receiver on 127.0.0.1 checks with Node's own HMAC.
 */
const SECRET = "alert-signing-secret-for-workerd";

let t: TestDatabase;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;
let mf: Miniflare;
const received: { body: string; signature: string | undefined }[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    received.push({
      body: Buffer.concat(chunks).toString("utf8"),
      signature: req.headers["regent-signature"] as string | undefined,
    });
    res.writeHead(204).end();
  });
});

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const { port } = receiver.address() as AddressInfo;
  mf = runInWorkerd(await bundleWorker("functions/worker.ts"), {
    DATABASE_URL: withPassword(t.url),
    NEON_WS_PROXY: proxy.address,
    ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
    ALERT_WEBHOOK_SECRET: SECRET,
  });
});

afterAll(async () => {
  await mf?.dispose();
  await proxy?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe("the Cron Worker's alert digest", () => {
  it("is signed with Web Crypto and sent with fetch, then audited", async () => {
    await catalogue(t.db, "nope");
    await submitJob(t.db, submitter, { generator: "nope", input: {} });
    const worker = await mf.getWorker();
    expect((await worker.scheduled({ cron: "* * * * *" })).outcome).toBe("ok");

    expect(received).toHaveLength(1);
    const [got] = received;
    const expected = createHmac("sha256", SECRET)
      .update(got?.body ?? "")
      .digest("hex");
    expect(got?.signature).toBe(`sha256=${expected}`);
    expect(JSON.parse(got?.body ?? "{}").failures).toMatchObject({
      total: 1,
      byGeneratorAndCode: [{ generator: "nope", errorCode: "UNKNOWN_GENERATOR", count: 1 }],
    });
    const { rows } = await t.raw.query(
      "SELECT actor, subject_type FROM audit_events WHERE type = 'ALERT_SENT'",
    );
    expect(rows).toEqual([{ actor: expect.stringMatching(/^worker:/), subject_type: "alert" }]);
  });
});
