/**
 * Generators: the catalog with each one's pending jobs and last day's failures, and the brake:
 * pausing or resuming a generator, each behind a confirmation that says what happens to its jobs.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type DomainError, isDomainError } from "../../functions/domain/errors";
import {
  type GeneratorActivity,
  generatorActivity,
  pauseGenerator,
  resumeGenerator,
} from "../../functions/domain/generators";
import { refusal } from "../../functions/domain/refusals";
import { isCallerRefusal } from "../../functions/http/auth";
import { auditContext } from "../../functions/http/caller";
import { type AdminContext, type AdminEnv, adminPath, canMutate } from "../context";
import { field, noticeOf, statusOf } from "../forms";
import { requireAdmin } from "../middleware";
import { type Brake, GeneratorBrakePage } from "../pages/generator-brake-page";
import { GeneratorsPage } from "../pages/generators-page";

const PULL = { pause: pauseGenerator, resume: resumeGenerator } as const;
const DONE = { pause: "generator-paused", resume: "generator-resumed" } as const;

async function renderList(
  c: AdminContext,
  extra: { error?: DomainError; rows?: GeneratorActivity[] } = {},
  status: ContentfulStatusCode = 200,
) {
  const rows = extra.rows ?? (await generatorActivity(c.var.db));
  c.status(status);
  return c.render(
    <GeneratorsPage
      generators={rows}
      canMutate={canMutate(c)}
      notice={extra.error ? undefined : noticeOf(c)}
      error={extra.error}
    />,
    { title: "Generators", section: "generators" },
  );
}

/**
 * The refusal `brake` meets on the generator as it stands, worded as the database's own: a
 * confirmation is only offered for what can still be done.
 */
function stateRefusal(brake: Brake, { generator }: GeneratorActivity): DomainError | undefined {
  if (brake === "pause" && generator.pausedAt) {
    return refusal("GENERATOR_ALREADY_PAUSED", {
      generator: generator.name,
      pausedBy: generator.pausedBy,
      pausedAt: generator.pausedAt.toISOString(),
    });
  }
  if (brake === "resume" && !generator.pausedAt) {
    return refusal("GENERATOR_NOT_PAUSED", { generator: generator.name });
  }
  return undefined;
}

/**
 * The confirmation of `brake` for the generator `name`, read with the whole catalog's activity
 * in one statement (the catalog holds a few rows); GENERATOR_NOT_FOUND when it has no such name.
 */
async function renderConfirm(
  c: AdminContext,
  brake: Brake,
  name: string,
  form: { error?: DomainError; text?: string } = {},
  status: ContentfulStatusCode = 200,
) {
  const rows = await generatorActivity(c.var.db);
  const entry = rows.find((row) => row.generator.name === name);
  if (!entry) throw refusal("GENERATOR_NOT_FOUND", { generator: name });
  const refused = stateRefusal(brake, entry);
  if (refused) return renderList(c, { error: refused, rows }, statusOf(refused));
  c.status(status);
  return c.render(
    <GeneratorBrakePage brake={brake} entry={entry} error={form.error} text={form.text} />,
    { title: `${brake === "pause" ? "Pause" : "Resume"} ${name}`, section: "generators" },
  );
}

export const generatorPages = new Hono<AdminEnv>();

generatorPages.get("/", (c) => renderList(c));

for (const brake of ["pause", "resume"] as const) {
  generatorPages.get(`/:name/${brake}`, requireAdmin(), (c) =>
    renderConfirm(c, brake, c.req.param("name") ?? ""),
  );

  generatorPages.post(`/:name/${brake}`, requireAdmin(), async (c) => {
    const name = c.req.param("name") ?? "";
    const body = await c.req.parseBody();
    const text = field(body, "reasonText");
    try {
      await PULL[brake](c.var.db, auditContext(c), name, text);
      return c.redirect(`${adminPath("/generators")}?notice=${DONE[brake]}`, 303);
    } catch (error) {
      if (!isDomainError(error) || isCallerRefusal(error) || error.code === "GENERATOR_NOT_FOUND") {
        throw error;
      }
      // Someone pulled the brake first: the list shows the generator as it stands now.
      if (error.code === "GENERATOR_ALREADY_PAUSED" || error.code === "GENERATOR_NOT_PAUSED") {
        return renderList(c, { error }, statusOf(error));
      }
      return renderConfirm(c, brake, name, { error, text }, statusOf(error));
    }
  });
}
