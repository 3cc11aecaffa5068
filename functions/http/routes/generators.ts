import { z } from "@hono/zod-openapi";
import {
  generatorDetail,
  listGenerators,
  pauseGenerator,
  resumeGenerator,
} from "../../domain/generators";
import { auditContext } from "../caller";
import type { App } from "../env";
import { generatorName } from "../lookup";
import { errorResponses, securedRoute } from "../route";
import {
  GeneratorDetailSchema,
  GeneratorParams,
  GeneratorReasonBody,
  GeneratorSchema,
} from "../schemas";
import { generatorDetailJson, generatorJson } from "../serialize";

const generatorBody = z.object({ generator: GeneratorSchema });

const listRoute = securedRoute("viewer", {
  operationId: "listGenerators",
  method: "get",
  path: "/api/admin/generators",
  tags: ["generators"],
  summary:
    "The generator catalog: each generator, its current version and input schema, paused or not",
  description:
    "The workers publish the generators they run (name, version, input JSON Schema) when they start and at deploy time. POST /api/jobs accepts only these names, and only inputs their current schema accepts.",
  responses: {
    200: {
      description: "every generator, by name",
      content: { "application/json": { schema: z.object({ items: z.array(GeneratorSchema) }) } },
    },
    ...errorResponses(401, 403, 500),
  },
});

const getRoute = securedRoute("viewer", {
  operationId: "getGenerator",
  method: "get",
  path: "/api/admin/generators/{name}",
  tags: ["generators"],
  summary: "A generator with every version it published",
  request: { params: GeneratorParams },
  responses: {
    200: {
      description: "the generator and its versions, newest first",
      content: { "application/json": { schema: z.object({ generator: GeneratorDetailSchema }) } },
    },
    ...errorResponses(401, 403, [404, "GENERATOR_NOT_FOUND"], 500),
  },
});

/** Pause and resume: the same request and answer, each with its own effect and refusal. */
function brakeRoute(
  brake: "pause" | "resume",
  doc: { summary: string; description: string; done: string },
) {
  return securedRoute("admin", {
    operationId: `${brake}Generator`,
    method: "post",
    path: `/api/admin/generators/{name}/${brake}`,
    tags: ["generators"],
    summary: doc.summary,
    description: doc.description,
    request: {
      params: GeneratorParams,
      body: { required: true, content: { "application/json": { schema: GeneratorReasonBody } } },
    },
    responses: {
      200: { description: doc.done, content: { "application/json": { schema: generatorBody } } },
      ...errorResponses(
        400,
        401,
        403,
        [404, "GENERATOR_NOT_FOUND"],
        [409, brake === "pause" ? "GENERATOR_ALREADY_PAUSED" : "GENERATOR_NOT_PAUSED"],
        413,
        415,
        500,
      ),
    },
  });
}

const pauseRoute = brakeRoute("pause", {
  summary: "Pause a generator: its jobs wait PENDING until it is resumed",
  description:
    "No job changes: new jobs of the generator are still accepted (retries and batches too) and wait PENDING; no worker claims them; jobs already RUNNING finish. Audited as GENERATOR_PAUSED with the caller and the reason. 409 GENERATOR_ALREADY_PAUSED when it is paused.",
  done: "the generator is paused",
});

const resumeRoute = brakeRoute("resume", {
  summary: "Resume a paused generator: its waiting jobs are claimed again",
  description:
    "Its PENDING jobs become claimable, oldest first as always, and the claimer is woken. Audited as GENERATOR_RESUMED with the caller, the reason and the pause it ends. 409 GENERATOR_NOT_PAUSED when it is not paused.",
  done: "the generator runs again",
});

export function registerGeneratorRoutes(app: App): void {
  app.openapi(listRoute, async (c) => {
    const entries = await listGenerators(c.var.db);
    return c.json({ items: entries.map(generatorJson) }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const detail = await generatorDetail(c.var.db, generatorName(c.req.valid("param").name));
    return c.json({ generator: generatorDetailJson(detail) }, 200);
  });

  for (const [route, pull] of [
    [pauseRoute, pauseGenerator],
    [resumeRoute, resumeGenerator],
  ] as const) {
    app.openapi(route, async (c) => {
      const name = generatorName(c.req.valid("param").name);
      const { reasonText } = c.req.valid("json");
      const entry = await pull(c.var.db, auditContext(c), name, reasonText);
      return c.json({ generator: generatorJson(entry) }, 200);
    });
  }
}
