/** The signals page: failures, retries and the surge rule, as `/metrics` reports them. */
import { Hono } from "hono";
import { readHourlySignals, readSignalTotals } from "../../functions/domain/signals";
import type { AdminEnv } from "../context";
import { SignalsPage } from "../pages/signals-page";

export const signalPages = new Hono<AdminEnv>();

signalPages.get("/", async (c) => {
  const [totals, hourly] = await Promise.all([
    readSignalTotals(c.var.db),
    readHourlySignals(c.var.db, c.var.config.surge),
  ]);
  return c.render(<SignalsPage totals={totals} hourly={hourly} />, { title: "Signals" });
});
