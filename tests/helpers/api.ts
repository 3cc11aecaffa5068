import type { JWTVerifyGetKey } from "jose";
import type { ApiTokenRole } from "../../db/schema";
import type { Db } from "../../db/types";
import { loadConfig } from "../../functions/config/api";
import { createApiToken, revokeApiToken } from "../../functions/domain/api-tokens";
import { cloudflareClientAddress } from "../../functions/http/caller";
import { createServer } from "../../functions/server";

const cli = { actor: "cli:test" };

export interface Caller {
  /** Sent as `Authorization: Bearer …`; undefined sends no credentials. */
  token?: string | undefined;
  /** Sent as `Cf-Access-Jwt-Assertion`. */
  accessJwt?: string | undefined;
}

/** A parsed response body; each test asserts the parts it relies on. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are dynamic JSON, checked by the assertions
export type JsonBody = any;

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions extends Caller {
  /** A value to send as JSON, or a string sent as-is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type ApiApp = ReturnType<typeof createServer>;

/**
 * Builds the server exactly as the entry points do, over a test database. The caller's address
 * is Cloudflare's header, as in the Worker; `npm start`'s socket address is tested end to end.
 */
export function testApp(
  db: Db,
  env: Record<string, string> = {},
  options: { accessKeys?: JWTVerifyGetKey } = {},
): ApiApp {
  return createServer({
    db,
    config: loadConfig(env),
    clientAddress: cloudflareClientAddress,
    accessKeys: options.accessKeys,
  });
}

/** One request through `app.request()`, the body parsed as JSON when it is JSON. */
export async function call<T = JsonBody>(
  app: ApiApp,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { "user-agent": "regent-tests", ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.accessJwt !== undefined) headers["cf-access-jwt-assertion"] = options.accessJwt;
  let body: string | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === "string") {
      body = options.body;
    } else {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
  }
  const response = await app.request(path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if (response.headers.get("content-type")?.includes("application/json")) {
    parsed = JSON.parse(text);
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export interface Tokens {
  admin: string;
  secondAdmin: string;
  viewer: string;
  submitter: string;
  otherSubmitter: string;
  revoked: string;
  /** Actor strings (`token:<id>`) of each token. */
  actors: Record<Exclude<keyof Tokens, "actors">, string>;
}

async function token(db: Db, name: string, role: ApiTokenRole) {
  const { token, record } = await createApiToken(db, cli, { name, role });
  return { token, actor: `token:${record.id}`, id: record.id };
}

/** One token per role, a second admin and submitter, and a revoked admin token. */
export async function createTokens(db: Db): Promise<Tokens> {
  const admin = await token(db, "admin", "admin");
  const secondAdmin = await token(db, "second admin", "admin");
  const viewer = await token(db, "viewer", "viewer");
  const submitter = await token(db, "submitter", "submitter");
  const otherSubmitter = await token(db, "other submitter", "submitter");
  const revoked = await token(db, "revoked", "admin");
  await revokeApiToken(db, cli, revoked.id);
  return {
    admin: admin.token,
    secondAdmin: secondAdmin.token,
    viewer: viewer.token,
    submitter: submitter.token,
    otherSubmitter: otherSubmitter.token,
    revoked: revoked.token,
    actors: {
      admin: admin.actor,
      secondAdmin: secondAdmin.actor,
      viewer: viewer.actor,
      submitter: submitter.actor,
      otherSubmitter: otherSubmitter.actor,
      revoked: revoked.actor,
    },
  };
}
