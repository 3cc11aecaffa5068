/** The signals page: failures, retries and the surge rule, as `/metrics` reports them. */
import { Hono } from "hono";
import { readSignals } from "../../functions/domain/signals";
import { type AdminEnv, canMutate } from "../context";
import { SignalsPage } from "../pages/signals-page";
import { askForCatalog } from "../sign-in";

export const signalPages = new Hono<AdminEnv>();

signalPages.get("/", async (c) => {
  // Failures name generators of old jobs too; only those of the catalog can be paused.
  askForCatalog(c);
  const { totals, hourly } = await readSignals(c.var.db, c.var.config.surge);
  const paused = new Set((c.var.pausedGenerators ?? []).map((g) => g.name));
  return c.render(
    <SignalsPage
      totals={totals}
      hourly={hourly}
      brake={{ catalog: new Set(c.var.catalog ?? []), paused, canMutate: canMutate(c) }}
    />,
    { title: "Signals" },
  );
});
