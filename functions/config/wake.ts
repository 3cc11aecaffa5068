/**
 * How the API Worker wakes the claimer Worker on Cloudflare: a service binding under this name
 * (declared in infra/api.ts), and a POST to this path on it (served by functions/worker.ts).
 * The claimer has no URL, so nothing but the binding reaches it.
 */
export const CLAIMER_WAKE = { binding: "CLAIMER", path: "/wake" } as const;
