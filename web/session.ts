import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Executor } from "../db/types";
import { findApiToken } from "../functions/domain/api-tokens";
import { ADMIN_BASE } from "./context";

export const SESSION_COOKIE = "regent_admin";

/** A session ends after a working day at most; signing in again is cheap, a stolen cookie ages out. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

export const MIN_SECRET_LENGTH = 32;

export interface Session {
  tokenId: string;
  expiresAt: number;
  /** Random per sign-in: the CSRF token is derived from it, so it changes with every session. */
  nonce: string;
}

const SESSION_SHAPE = /^([a-z0-9]{1,64}):(\d{1,12}):([A-Za-z0-9_-]{16,64})$/;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** True when the browser reached us over https, directly or through a TLS-terminating proxy. */
export function isHttps(c: Context): boolean {
  return (
    new URL(c.req.url).protocol === "https:" ||
    c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https"
  );
}

/** Starts a session for an API token: a signed, HttpOnly, SameSite=Strict cookie scoped to the admin page. */
export async function startSession(c: Context, secret: string, tokenId: string): Promise<Session> {
  const session: Session = {
    tokenId,
    expiresAt: Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS,
    nonce: base64url(crypto.getRandomValues(new Uint8Array(18))),
  };
  await setSignedCookie(
    c,
    SESSION_COOKIE,
    `${session.tokenId}:${session.expiresAt}:${session.nonce}`,
    secret,
    {
      httpOnly: true,
      sameSite: "Strict",
      secure: isHttps(c),
      path: ADMIN_BASE,
      maxAge: SESSION_TTL_SECONDS,
    },
  );
  return session;
}

/** The session the cookie carries, or null when there is none, its signature is wrong or it expired. */
export async function readSession(c: Context, secret: string): Promise<Session | null> {
  const value = await getSignedCookie(c, secret, SESSION_COOKIE);
  if (!value) return null;
  const match = SESSION_SHAPE.exec(value);
  if (!match) return null;
  const [, tokenId, expiresAt, nonce] = match;
  if (!tokenId || !expiresAt || !nonce) return null;
  const session = { tokenId, expiresAt: Number(expiresAt), nonce };
  // The expiry inside the signed value is what counts: a client can keep a cookie past Max-Age.
  if (session.expiresAt <= Math.floor(Date.now() / 1000)) return null;
  return session;
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, {
    path: ADMIN_BASE,
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
  });
}

/** True when the request carries a session cookie at all, valid or not. */
export function hasSessionCookie(c: Context): boolean {
  return /(?:^|;\s*)regent_admin=/.test(c.req.header("cookie") ?? "");
}

/**
 * The token a session stands for, read again on every request so that revoking a token signs
 * its sessions out at once.
 */
export const findSessionToken = (db: Executor, tokenId: string) => findApiToken(db, tokenId);

async function hmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return base64url(new Uint8Array(signature));
}

/**
 * The hidden form token of one session. Token sessions derive it from their random nonce;
 * Access sessions have no cookie of ours, so theirs is bound to the identity instead.
 * The message prefix keeps these MACs apart from the cookie signatures made with the same secret.
 */
export function csrfTokenFor(secret: string, sessionKey: string): Promise<string> {
  return hmac(secret, `regent-admin-csrf\n${sessionKey}`);
}

/** Compares without stopping at the first differing character. */
export function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Only a path inside the admin page is a place to return to after signing in. */
export function safeReturnPath(next: string | undefined | null): string {
  if (!next) return ADMIN_BASE;
  if (!/^\/admin(?:[/?]|$)/.test(next) || next.includes("\\") || next.startsWith("//")) {
    return ADMIN_BASE;
  }
  return next.slice(0, 500);
}
