import { z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { html } from "hono/html";
import type { App } from "../env";
import { publicRoute } from "../route";

type OpenApiDocument = ReturnType<App["getOpenAPI31Document"]>;

const healthRoute = publicRoute({
  operationId: "health",
  method: "get",
  path: "/healthz",
  tags: ["meta"],
  summary: "Liveness and database reachability",
  responses: {
    200: {
      description: "the API answers and its database too",
      content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
    },
    503: {
      description: "the database does not answer",
      content: {
        "application/json": { schema: z.object({ status: z.literal("unavailable") }) },
      },
    },
  },
});

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** A server-rendered reference of the generated document: no scripts, nothing fetched. */
function renderDocs(doc: OpenApiDocument) {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const op = (item as Record<string, unknown>)[method] as Record<string, unknown> | undefined;
      return op ? [{ path, method, op }] : [];
    }),
  );
  const schemas = Object.entries(doc.components?.schemas ?? {});
  const refName = (schema: unknown) => {
    const ref = (schema as { $ref?: string } | undefined)?.$ref;
    return ref?.startsWith("#/components/schemas/") ? ref.slice(21) : undefined;
  };
  const schemaView = (schema: unknown) => {
    const name = refName(schema);
    return name ? html`<a href="#schema-${name}">${name}</a>` : html`<pre>${pretty(schema)}</pre>`;
  };
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} — API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1b1b1f}
h1{margin-bottom:.2rem} code,pre{font:13px/1.4 ui-monospace,monospace}
pre{background:#f4f4f6;padding:.6rem;overflow-x:auto;border-radius:4px}
section.op{border-top:1px solid #ddd;padding:.6rem 0}
.m{display:inline-block;min-width:3.6rem;text-align:center;font-weight:600;border-radius:3px;padding:0 .3rem;color:#fff}
.get{background:#2f6f3e}.post{background:#1f4f99}
.role{font-size:12px;border:1px solid #999;border-radius:3px;padding:0 .3rem;margin-left:.5rem}
table{border-collapse:collapse} td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
nav a{display:block}
</style>
</head>
<body>
<h1>${doc.info.title}</h1>
<p>Version ${doc.info.version}. ${doc.info.description ?? ""}</p>
<p>The machine-readable document is <a href="/api/openapi.json">/api/openapi.json</a>.</p>
<nav>
${operations.map(
  ({ path, method, op }) =>
    html`<a href="#${String(op.operationId ?? `${method}-${path}`)}"><code>${method.toUpperCase()} ${path}</code> — ${String(op.summary ?? "")}</a>`,
)}
</nav>
${operations.map(({ path, method, op }) => {
  const role = op["x-regent-role"] as string | undefined;
  const params = (op.parameters ?? []) as {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: unknown;
  }[];
  const body = op.requestBody as
    | { content?: Record<string, { schema?: unknown }>; required?: boolean }
    | undefined;
  const responses = Object.entries(
    (op.responses ?? {}) as Record<
      string,
      { description?: string; content?: Record<string, { schema?: unknown }> }
    >,
  );
  return html`<section class="op" id="${String(op.operationId ?? `${method}-${path}`)}">
<h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${path}</code>${role ? html`<span class="role">role: ${role}</span>` : html`<span class="role">no sign-in</span>`}</h2>
<p><strong>${String(op.summary ?? "")}</strong></p>
${op.description ? html`<p>${String(op.description)}</p>` : ""}
${
  params.length > 0
    ? html`<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>
${params.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? "yes" : "no"}</td><td><code>${JSON.stringify(p.schema ?? {})}</code>${p.description ? html`<br>${p.description}` : ""}</td></tr>`)}
</table>`
    : ""
}
${body?.content ? html`<p>Body (application/json): ${schemaView(body.content["application/json"]?.schema)}</p>` : ""}
<table><tr><th>status</th><th>meaning</th><th>body</th></tr>
${responses.map(([status, r]) => html`<tr><td>${status}</td><td>${r.description ?? ""}</td><td>${r.content ? schemaView(r.content["application/json"]?.schema) : ""}</td></tr>`)}
</table>
</section>`;
})}
<h2>Schemas</h2>
${schemas.map(([name, schema]) => html`<section id="schema-${name}"><h3>${name}</h3><pre>${pretty(schema)}</pre></section>`)}
</body>
</html>`;
}

/** `/healthz`, `/api/openapi.json` (generated from the routes' schemas) and `/api/docs`. */
/** Without Access configured, the document offers API tokens only. */
function withoutAccess(doc: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(doc);
  delete copy.components?.securitySchemes?.accessJwt;
  for (const item of Object.values(copy.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, { security?: Record<string, string[]>[] } | undefined>)[
        method
      ];
      if (op?.security) op.security = op.security.filter((entry) => !("accessJwt" in entry));
    }
  }
  return copy;
}

const documentRoute = publicRoute({
  operationId: "getOpenApiDocument",
  method: "get",
  path: "/api/openapi.json",
  tags: ["meta"],
  summary: "This OpenAPI 3.1 document",
  responses: {
    200: {
      description: "the document, generated from the routes' schemas",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
  },
});

const docsRoute = publicRoute({
  operationId: "getApiReference",
  method: "get",
  path: "/api/docs",
  tags: ["meta"],
  summary: "This document as an HTML page",
  responses: {
    200: {
      description: "a server-rendered reference, without scripts",
      content: { "text/html": { schema: z.string() } },
    },
  },
});

export function registerMetaRoutes(app: App, info: { version: string; access: boolean }): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "an API token (`npm run regent -- token create`)",
  });
  // Removed from the served document when Access is not configured (see withoutAccess).
  app.openAPIRegistry.registerComponent("securitySchemes", "accessJwt", {
    type: "apiKey",
    in: "header",
    name: "Cf-Access-Jwt-Assertion",
    description: "a Cloudflare Access application token, when Access is configured",
  });

  app.openapi(healthRoute, async (c) => {
    try {
      await c.var.db.execute(sql`select 1`);
      return c.json({ status: "ok" as const }, 200);
    } catch {
      return c.json({ status: "unavailable" as const }, 503);
    }
  });

  let document: OpenApiDocument | undefined;
  const generated = () => {
    if (document) return document;
    const full = app.getOpenAPI31Document({
      openapi: "3.1.0",
      servers: [{ url: "/", description: "the server this document is served from" }],
      tags: [
        { name: "meta", description: "health and this document" },
        { name: "jobs", description: "submitting and reading jobs" },
        { name: "admin", description: "reading jobs, audit events and metrics" },
        { name: "retry intents", description: "governed retries of one failed job" },
        { name: "retry batches", description: "governed retries of many failed jobs at once" },
      ],
      info: {
        title: "Regent API",
        version: info.version,
        description:
          "Regeneration jobs run exactly once; recovery from failure is a human decision through RetryIntents. Errors are always { error: { code, message, details?, requestId } }.",
      },
    });
    document = info.access ? full : withoutAccess(full);
    return document;
  };

  app.openapi(documentRoute, (c) => c.json(generated() as unknown as Record<string, unknown>, 200));
  app.openapi(docsRoute, (c) => {
    c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    return c.html(renderDocs(generated()));
  });
}
