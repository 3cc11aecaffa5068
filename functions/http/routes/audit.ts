import { listAudit } from "../../domain/audit";
import type { App } from "../env";
import { errorResponses, securedRoute } from "../route";
import { AuditEventSchema, AuditListQuery, DEFAULT_PAGE_SIZE, page } from "../schemas";
import { auditEventJson, pageJson } from "../serialize";

const listAuditRoute = securedRoute("viewer", {
  operationId: "listAuditEvents",
  method: "get",
  path: "/api/admin/audit",
  tags: ["admin"],
  summary: "Audit events, newest first",
  description:
    "Filter by the subject (a job, intent, token or request id), by event type, by who acted and by when (`after`, `before`); every filter narrows. An actor is read through its own index and a time window through a block-range index, so a filtered page costs its rows.",
  request: { query: AuditListQuery },
  responses: {
    200: {
      description: "one page of audit events",
      content: { "application/json": { schema: page(AuditEventSchema) } },
    },
    ...errorResponses(400, 401, 403, 500),
  },
});

export function registerAuditRoutes(app: App): void {
  app.openapi(listAuditRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await listAudit(c.var.db, { ...query, limit: query.limit ?? DEFAULT_PAGE_SIZE });
    return c.json(pageJson(result, auditEventJson), 200);
  });
}
