/**
 * A surge an admin made: when most of the last hour's retries came from executing one batch,
 * the surge names that batch and who executed it, and the banner on every admin page says it is
 * a recovery, not new failures; a day without retries reads as such, not as a mean of 0.00.
 * Real retries through the real batch and intent flows, judged by the database's own clock.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  createRetryBatch,
  executeRetryBatch,
  previewRetryBatch,
} from "../../functions/domain/retry-batches";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { readSurge } from "../../functions/domain/signals";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failedJobOf, secondAdmin } from "../helpers/fixtures";
import { backdatedRetry } from "../helpers/signals";

const RULE = { factor: 3, min: 4 };
const ENV = { RETRY_SURGE_FACTOR: "3", RETRY_SURGE_MIN: "4" };

let t: TestDatabase;
let client: AdminClient;
let batchId: string;

/** The surge banner's text, tags left out; empty when there is none. */
async function banner(): Promise<string> {
  const { html } = await client.page("/admin/retry-batches");
  const start = html.indexOf('<div class="notice notice-warn surge-banner"');
  if (start < 0) return "";
  return html
    .slice(start, html.indexOf("</div>", start))
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ");
}

beforeAll(async () => {
  t = await freshDatabase();
  client = new AdminClient(adminApp({ db: t.db, env: ENV }));
  await client.signIn((await token(t.db, "admin", "alice")).secret);
  for (let i = 0; i < 5; i++) await failedJobOf(t.db, "recovered", "HTTP_STATUS_503");
  const preview = await previewRetryBatch(t.db, { generator: "recovered" });
  const batch = await createRetryBatch(t.db, admin, {
    filter: { generator: "recovered" },
    previewToken: preview.previewToken,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "the provider is back",
  });
  batchId = batch.id;
  await executeRetryBatch(t.db, secondAdmin, batch.id);
});

describe("a surge that came from a batch", () => {
  it("names the batch and who executed it, and says the day before had none", async () => {
    expect(await readSurge(t.db, RULE)).toEqual({
      lastHour: 5,
      trailingHourlyMean: 0,
      factor: 3,
      min: 4,
      surging: true,
      fromBatch: { id: batchId, executedBy: secondAdmin.actor, retries: 5 },
    });
    const said = await banner();
    expect(said).toContain(
      "5 retry jobs were created in the last hour, with none in the 24 hours before.",
    );
    expect(said).toContain(
      `5 of them came from batch ${batchId} , executed by ${secondAdmin.actor}`,
    );
    expect(said).toContain("a recovery an admin ran, not new failures");
    expect(said).not.toContain("0.00");
    const { html } = await client.page("/admin/retry-batches");
    expect(html).toContain(`href="/admin/retry-batches/${batchId}"`);
  });

  it("blames no batch once most of the hour's retries came from elsewhere", async () => {
    for (let i = 0; i < 6; i++) {
      const job = await failedJobOf(t.db, "single", "HTTP_TIMEOUT");
      const intent = await createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "one at a time",
      });
      await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    }
    const surge = await readSurge(t.db, RULE);
    expect(surge).toMatchObject({ lastHour: 11, surging: true });
    expect(surge.fromBatch).toBeUndefined();
    const said = await banner();
    expect(said).toContain("Check what is failing before approving more.");
    expect(said).not.toContain(batchId);
  });

  it("gives the trailing mean as a number when the day before had retries", async () => {
    // 24 retries three hours ago: a mean of one an hour; 11 in the last hour is still over 3.
    for (let i = 0; i < 24; i++) {
      await backdatedRetry(t.raw, (await failedJobOf(t.db, "earlier", "HTTP_TIMEOUT")).id, 3);
    }
    expect(await banner()).toContain(
      "more than 3 times the hourly mean of the 24 hours before (1.00)",
    );
  });
});
