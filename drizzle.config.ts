import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  // The drift check points this at a scratch copy of the migrations.
  out: process.env.DRIZZLE_OUT ?? "./db/migrations",
});
