import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { ADMIN_SESSION_ID } from "../functions/domain/admin-sessions";
import { ADMIN_BASE } from "./context";

export const SESSION_COOKIE = "regent_admin";

export const MIN_SECRET_LENGTH = 32;

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

/**
 * Hands the browser its session: the session's id, signed, in an HttpOnly, SameSite=Strict
 * cookie scoped to the admin page. The id alone is not enough to forge one: the signature
 * needs the session secret.
 */
export async function setSessionCookie(
  c: Context,
  secret: string,
  session: { id: string; expiresAt: Date },
) {
  // The cookie lives as long as its session row, whose length the database sets.
  const maxAge = Math.max(0, Math.round((session.expiresAt.getTime() - Date.now()) / 1000));
  await setSignedCookie(c, SESSION_COOKIE, session.id, secret, {
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    path: ADMIN_BASE,
    maxAge,
  });
}

/**
 * The session id the cookie carries, or null when there is none or its signature is wrong.
 * Whether that session is still live is the database's to say (`findActiveAdminSession`).
 */
export async function readSessionId(c: Context, secret: string): Promise<string | null> {
  const value = await getSignedCookie(c, secret, SESSION_COOKIE);
  return value && ADMIN_SESSION_ID.test(value) ? value : null;
}

export function clearSessionCookie(c: Context): void {
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
 * The hidden form token of one session. Token sessions derive it from their session id, so a
 * session that has ended takes its form token with it; Access sessions have no cookie of ours,
 * so theirs is bound to the identity instead.
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

/**
 * Only a path inside the admin page is a place to return to after signing in, and only one of
 * printable ASCII: it goes into a `Location` header, where a CR, LF or other control character
 * (or anything past Latin-1) cannot stand.
 */
export function safeReturnPath(next: string | undefined | null): string {
  if (!next) return ADMIN_BASE;
  if (
    !/^\/admin(?:[/?]|$)/.test(next) ||
    !/^[\x21-\x7e]+$/.test(next) ||
    next.includes("\\") ||
    next.startsWith("//")
  ) {
    return ADMIN_BASE;
  }
  return next.slice(0, 500);
}
