/** The signals page: failures, retries and the surge rule, as `/metrics` reports them. */
import { Hono } from "hono";
import { readSignals } from "../../functions/domain/signals";
import type { AdminEnv } from "../context";
import { SignalsPage } from "../pages/signals-page";

export const signalPages = new Hono<AdminEnv>();

signalPages.get("/", async (c) => {
  const { totals, hourly } = await readSignals(c.var.db, c.var.config.surge);
  return c.render(<SignalsPage totals={totals} hourly={hourly} />, { title: "Signals" });
});
