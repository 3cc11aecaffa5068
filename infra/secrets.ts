/**
 * Secrets per stage, held by SST (`sst secret set <Name> <value> --stage <stage>`), never in
 * the repository or the deploying shell.
 */
import { SECRETS, type SecretName } from "./config";

/** An optional secret's placeholder: "not set", so that no binding is made for it. */
export const NOT_SET = "";

function secret(name: SecretName): sst.Secret {
  const { component, optional } = SECRETS[name];
  // Without a placeholder SST stops the deployment until the secret is set for the stage.
  return optional ? new sst.Secret(component, NOT_SET) : new sst.Secret(component);
}

export const secrets: Record<SecretName, sst.Secret> = {
  DATABASE_URL: secret("DATABASE_URL"),
  SESSION_SECRET: secret("SESSION_SECRET"),
  REGENT_BOOTSTRAP_ADMIN_TOKEN: secret("REGENT_BOOTSTRAP_ADMIN_TOKEN"),
  HTTP_GENERATOR_HEADERS: secret("HTTP_GENERATOR_HEADERS"),
  METRICS_TOKEN: secret("METRICS_TOKEN"),
  ALERT_WEBHOOK_URL: secret("ALERT_WEBHOOK_URL"),
  ALERT_WEBHOOK_SECRET: secret("ALERT_WEBHOOK_SECRET"),
};
