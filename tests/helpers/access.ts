import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTVerifyGetKey, SignJWT } from "jose";

/**
 * A Cloudflare Access team in miniature: a key pair whose public half is the team's key set,
 * and the settings that point Regent at it. Tokens are signed here as Access would sign them.
 */
export interface AccessTeam {
  env: Record<string, string>;
  keys: JWTVerifyGetKey;
  /** An application token for `email`, valid for five minutes. */
  tokenFor(email: string): Promise<string>;
}

const TEAM = "regent-test.cloudflareaccess.com";
const AUD = "regent-admin-test-audience";

export async function accessTeam(roles: {
  admins?: string;
  viewers?: string;
  submitters?: string;
}): Promise<AccessTeam> {
  const pair = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "team-key", alg: "RS256" };
  return {
    env: {
      ACCESS_TEAM_DOMAIN: TEAM,
      ACCESS_AUD: AUD,
      ...(roles.admins ? { ACCESS_ADMIN_EMAILS: roles.admins } : {}),
      ...(roles.viewers ? { ACCESS_VIEWER_EMAILS: roles.viewers } : {}),
      ...(roles.submitters ? { ACCESS_SUBMITTER_EMAILS: roles.submitters } : {}),
    },
    keys: createLocalJWKSet({ keys: [jwk] }),
    tokenFor: (email) =>
      new SignJWT({ email })
        .setProtectedHeader({ alg: "RS256", kid: "team-key" })
        .setIssuedAt()
        .setIssuer(`https://${TEAM}`)
        .setAudience(AUD)
        .setExpirationTime("5m")
        .sign(pair.privateKey),
  };
}
