import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_PORT, loadConfig } from "../../functions/http/config";

describe("loadConfig", () => {
  it("runs with nothing set: embedded database, no Access, four-eyes off, port 8787", () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      neonWsProxy: undefined,
      access: undefined,
      bootstrapAdminToken: undefined,
      requireDistinctExecutor: false,
      port: DEFAULT_PORT,
    });
  });

  it("treats blank values as unset", () => {
    expect(
      loadConfig({ DATABASE_URL: "  ", PORT: "", ACCESS_AUD: " " }).databaseUrl,
    ).toBeUndefined();
  });

  it("derives the Access issuer and key URL from the team domain, with or without https://", () => {
    for (const domain of ["acme.cloudflareaccess.com", "https://acme.cloudflareaccess.com/"]) {
      const { access } = loadConfig({
        ACCESS_TEAM_DOMAIN: domain,
        ACCESS_AUD: "aud-1, aud-2",
        ACCESS_ADMIN_EMAILS: "Alice@Example.com, @ops.example.com",
      });
      expect(access).toEqual({
        issuer: "https://acme.cloudflareaccess.com",
        certsUrl: "https://acme.cloudflareaccess.com/cdn-cgi/access/certs",
        audience: ["aud-1", "aud-2"],
        adminEmails: ["alice@example.com", "@ops.example.com"],
        viewerEmails: [],
        submitterEmails: [],
      });
    }
  });

  it.each([
    [{ REQUIRE_DISTINCT_EXECUTOR: "true" }, true],
    [{ REQUIRE_DISTINCT_EXECUTOR: "1" }, true],
    [{ REQUIRE_DISTINCT_EXECUTOR: "off" }, false],
    [{ REQUIRE_DISTINCT_EXECUTOR: "" }, false],
  ])("reads REQUIRE_DISTINCT_EXECUTOR %j as %s", (env, value) => {
    expect(loadConfig(env).requireDistinctExecutor).toBe(value);
  });

  it.each([
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ PORT: "http" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ ACCESS_TEAM_DOMAIN: "acme.cloudflareaccess.com" }, "ACCESS_AUD"],
    [{ ACCESS_AUD: "x" }, "ACCESS_TEAM_DOMAIN"],
    [{ ACCESS_TEAM_DOMAIN: "not a domain", ACCESS_AUD: "x" }, "ACCESS_TEAM_DOMAIN"],
    [{ ACCESS_VIEWER_EMAILS: "bob" }, "ACCESS_VIEWER_EMAILS"],
    [{ REGENT_BOOTSTRAP_ADMIN_TOKEN: "short" }, "REGENT_BOOTSTRAP_ADMIN_TOKEN"],
    [{ REQUIRE_DISTINCT_EXECUTOR: "maybe" }, "REQUIRE_DISTINCT_EXECUTOR"],
  ])("refuses %j, naming %s", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it("lists every problem at once", () => {
    try {
      loadConfig({ PORT: "x", DATABASE_URL: "nope" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/);
    }
  });
});
