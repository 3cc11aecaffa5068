/**
 * `npm start`: applies migrations (embedded PGlite by default) and serves Regent on PORT.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";

const port = Number(process.env.PORT ?? 8787);
const database = await connect({ url: process.env.DATABASE_URL });
await migrate(database);

const app = new Hono();
app.get("/healthz", (c) => c.json({ ok: true }));

serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) => {
  console.log(`Regent is running on http://127.0.0.1:${info.port} (database: ${database.kind})`);
});
