import type { Child } from "hono/jsx";
import { useRequestContext } from "hono/jsx-renderer";
import { type AdminEnv, adminPath, type LayoutProps, roleLabel } from "../context";
import { STYLESHEET_VERSION } from "../styles";
import { CsrfField } from "./csrf-field";
import { PausedBanner } from "./paused-banner";
import { SurgeBanner } from "./surge-banner";

const SECTIONS = [
  { key: "jobs", label: "Jobs", href: adminPath() },
  { key: "intents", label: "Retry intents", href: adminPath("/retry-intents") },
  { key: "batches", label: "Retry batches", href: adminPath("/retry-batches") },
  { key: "audit", label: "Audit", href: adminPath("/audit") },
  { key: "signals", label: "Signals", href: adminPath("/signals") },
  { key: "generators", label: "Generators", href: adminPath("/generators") },
] as const;

const WhoAmI = () => {
  const c = useRequestContext<AdminEnv>();
  const principal = c.get("principal");
  if (!principal) return null;
  return (
    <div class="whoami">
      <span>
        <strong title={principal.actor}>{principal.label}</strong>
      </span>
      <span class="badge badge-role">{roleLabel(principal)}</span>
      {principal.via === "session" ? (
        <form method="post" action={adminPath("/logout")} class="sign-out">
          <CsrfField />
          <button type="submit" class="button button-small">
            Sign out
          </button>
        </form>
      ) : (
        // Cloudflare Access owns this session; its own endpoint ends it.
        <a href="/cdn-cgi/access/logout">Sign out</a>
      )}
    </div>
  );
};

/** The frame of every admin page: top bar with navigation and identity, then the content. */
export function Layout({ children, title, section }: LayoutProps & { children?: Child }) {
  const c = useRequestContext<AdminEnv>();
  const signedIn = Boolean(c.get("principal"));
  // The signals page names no section of its own in LayoutProps; its path tells.
  const current = section ?? (c.req.path === adminPath("/signals") ? "signals" : undefined);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Regent admin`}</title>
        <link rel="stylesheet" href={adminPath(`/assets/admin.css?v=${STYLESHEET_VERSION}`)} />
      </head>
      <body>
        <a class="skip-link" href="#content">
          Skip to content
        </a>
        <header class="topbar">
          <div class="topbar-inner">
            <a class="brand" href={adminPath()}>
              Regent <small>admin</small>
            </a>
            {signedIn ? (
              <nav class="nav" aria-label="Sections">
                {SECTIONS.map((s) => (
                  <a href={s.href} aria-current={s.key === current ? "page" : undefined}>
                    {s.label}
                  </a>
                ))}
              </nav>
            ) : (
              <span class="nav" />
            )}
            <WhoAmI />
          </div>
        </header>
        <main id="content">
          {signedIn ? (
            <>
              <SurgeBanner surge={c.get("surge")} config={c.var.config.surge} />
              <PausedBanner paused={c.get("pausedGenerators") ?? []} />
            </>
          ) : null}
          {children}
        </main>
      </body>
    </html>
  );
}
