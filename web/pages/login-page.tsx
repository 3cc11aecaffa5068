import type { FC } from "hono/jsx";
import { Notice } from "../components/notice";
import { adminPath } from "../context";

/** Sign-in with an API token, for deployments without Cloudflare Access in front. */
export const LoginPage: FC<{
  next: string;
  error?: string | undefined;
  info?: string | undefined;
}> = ({ next, error, info }) => (
  <div class="login">
    <section class="panel" aria-labelledby="login-title">
      <header>
        <h1 id="login-title">Sign in to Regent admin</h1>
      </header>
      <div class="panel-body">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {info ? <Notice kind="info">{info}</Notice> : null}
        <form method="post" action={adminPath("/login")}>
          <input type="hidden" name="next" value={next} />
          <div class="field">
            <label for="token">API token</label>
            <input
              id="token"
              name="token"
              type="password"
              required
              autocomplete="off"
              spellcheck={false}
              aria-describedby="token-hint"
            />
            <span id="token-hint" class="hint">
              An admin or viewer token. Create one with{" "}
              <code>npm run regent -- token create --name NAME --role admin</code>.
            </span>
          </div>
          <button type="submit" class="button button-primary">
            Sign in
          </button>
        </form>
      </div>
    </section>
  </div>
);
