import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/config/api";
import { accessRoles } from "../../functions/http/auth";
import { hasRole } from "../../functions/http/principal";
import { MAX_JSON_DEPTH, storableJson, storableString } from "../../functions/http/schemas";

describe("storable JSON", () => {
  it("accepts ordinary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        const clean = JSON.stringify(value).includes("\\u0000") ? null : value;
        expect(storableJson(clean)).toBe(true);
      }),
    );
  });

  it("refuses NUL, unpaired surrogates, and nesting deeper than the limit", () => {
    expect(storableString("a\u0000b")).toBe(false);
    expect(storableString("\ud83d")).toBe(false);
    expect(storableString("\ude00x")).toBe(false);
    expect(storableString("😀")).toBe(true);
    expect(storableJson({ ok: ["x", { "k\u0000": 1 }] })).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    expect(storableJson(deep)).toBe(true);
    expect(storableJson([deep])).toBe(false);
  });
});

describe("roles", () => {
  const access = loadConfig({
    ACCESS_TEAM_DOMAIN: "t.cloudflareaccess.com",
    ACCESS_AUD: "a",
    ACCESS_ADMIN_EMAILS: "root@example.com",
    ACCESS_VIEWER_EMAILS: "@example.com",
    ACCESS_SUBMITTER_EMAILS: "bot@example.com",
  }).access;

  it("maps addresses and @domains, case-insensitively, without partial domain matches", () => {
    if (!access) throw new Error("Access is configured above");
    expect(accessRoles(access, "Root@Example.com")).toEqual(["admin", "viewer"]);
    expect(accessRoles(access, "bot@example.com")).toEqual(["viewer", "submitter"]);
    expect(accessRoles(access, "x@sub.example.com")).toEqual([]);
    expect(accessRoles(access, "x@notexample.com")).toEqual([]);
  });

  it("gives admin every role and the others only their own", () => {
    const p = (roles: ("admin" | "viewer" | "submitter")[]) => ({
      actor: "t",
      roles,
      via: "token" as const,
      label: "t",
    });
    expect(hasRole(p(["admin"]), "viewer")).toBe(true);
    expect(hasRole(p(["admin"]), "submitter")).toBe(true);
    expect(hasRole(p(["viewer"]), "submitter")).toBe(false);
    expect(hasRole(p(["submitter"]), "viewer")).toBe(false);
    expect(hasRole(p(["viewer"]), "admin")).toBe(false);
    expect(hasRole(p([]), "viewer")).toBe(false);
  });
});
