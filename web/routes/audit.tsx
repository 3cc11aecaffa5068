/** The audit log, filtered by subject and type, newest first. */
import { Hono } from "hono";
import { listAudit } from "../../functions/domain/audit";
import type { AdminEnv } from "../context";
import { queryValue } from "../forms";
import { AuditPage } from "../pages/audit-page";

const PAGE_SIZE = 50;

export const auditPages = new Hono<AdminEnv>();

auditPages.get("/", async (c) => {
  const filter = {
    subjectId: c.req.query("subjectId")?.trim() || undefined,
    type: queryValue(c, "type"),
  };
  const cursor = queryValue(c, "cursor");
  const page = await listAudit(c.var.db, { ...filter, limit: PAGE_SIZE, cursor });
  return c.render(
    <AuditPage
      filter={filter}
      events={page.items}
      nextCursor={page.nextCursor}
      paged={Boolean(cursor)}
    />,
    { title: "Audit", section: "audit" },
  );
});
