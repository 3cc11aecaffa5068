import { raw } from "hono/html";
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

/**
 * Where a page's skip links lead, besides its content: its main table, and its main action (or
 * the sentence that says why there is none now). Each is the first target of its list that the
 * page has; a page with neither offers only "Skip to content".
 */
const SKIP_TARGETS: { id: string; label: string; beside?: string }[][] = [
  [
    { id: "jobs-table", label: "Skip to the jobs" },
    { id: "intents-table", label: "Skip to the intents" },
    { id: "batches-table", label: "Skip to the batches" },
    { id: "audit-events", label: "Skip to the events" },
    { id: "generators-table", label: "Skip to the generators" },
    { id: "failures-table", label: "Skip to the failures" },
  ],
  [
    { id: "retry-disabled-reason", label: "Skip to the retry" },
    { id: "supersede-blocked", label: "Skip to the supersession" },
    { id: "reasonCode", label: "Skip to the supersede form", beside: "supersede" },
    { id: "reasonCode", label: "Skip to the retry form" },
    { id: "batch-reasonCode", label: "Skip to the approval" },
    { id: "filter-generator", label: "Skip to the filter" },
    { id: "decision-title", label: "Skip to the decision" },
    { id: "confirm-title", label: "Skip to the confirmation" },
  ],
];

/** The skip links for a page's rendered content: only to targets it has. */
function skipLinks(content: string): { id: string; label: string }[] {
  const has = (id: string) => content.includes(` id="${id}"`);
  return SKIP_TARGETS.flatMap(
    (targets) => targets.find((t) => has(t.id) && (!t.beside || has(t.beside))) ?? [],
  );
}

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

/**
 * The frame of every admin page: skip links, top bar with navigation and identity, then the
 * content. The content is rendered first, so that the skip links lead only to what it holds.
 */
export async function Layout({ children, title, section }: LayoutProps & { children?: Child }) {
  const c = useRequestContext<AdminEnv>();
  const signedIn = Boolean(c.get("principal"));
  // The signals page names no section of its own in LayoutProps; its path tells.
  const current = section ?? (c.req.path === adminPath("/signals") ? "signals" : undefined);
  const main = await (
    <main id="content">
      {signedIn ? (
        <>
          <SurgeBanner surge={c.get("surge")} config={c.var.config.surge} />
          <PausedBanner paused={c.get("pausedGenerators") ?? []} />
        </>
      ) : null}
      {children}
    </main>
  ).toString();
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
        {skipLinks(main).map((link) => (
          <a class="skip-link" href={`#${link.id}`}>
            {link.label}
          </a>
        ))}
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
        {/* Rendered above, where every text in it was escaped. */}
        {raw(main)}
      </body>
    </html>
  );
}
