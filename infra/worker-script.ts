/**
 * How SST's Worker component is told to create each Cloudflare Worker script: the shared
 * runtime settings, and the secrets bound under the names the entry points read.
 *
 * Why not `link: [secret]`? SST binds a linked Secret as a secret named after the component
 * (`DatabaseUrl`) holding `{"value":"…"}`, to be read through SST's SDK as
 * `Resource.DatabaseUrl.value`. The entries read plain `env.DATABASE_URL`, the same name they
 * use on Node and in the workerd tests, so each secret is bound here explicitly as a
 * `secret_text` binding under that name, next to the `plain_text` bindings SST makes from
 * `environment`. Linking as well would deploy every secret twice.
 */
import { type SecretName, StageConfigError, secretProblems } from "./config";
import { NOT_SET, secrets } from "./secrets";
import { compatibilityDate, compatibilityFlags } from "./worker-settings";

type WorkerTransform = Extract<
  NonNullable<NonNullable<sst.cloudflare.WorkerArgs["transform"]>["worker"]>,
  (...args: never[]) => unknown
>;

/** A `transform.worker` for a Worker that reads the given secrets from `env`. */
export function workerScript(names: readonly SecretName[]): WorkerTransform {
  const values = Object.fromEntries(names.map((name) => [name, secrets[name].value]));
  return (args) => {
    args.compatibilityDate = compatibilityDate;
    args.compatibilityFlags = [...compatibilityFlags];
    args.bindings = $resolve({ declared: args.bindings ?? [], values }).apply(
      ({ declared, values }) => {
        const problems = secretProblems(values);
        const clashing = declared.filter((binding) => binding.name in values);
        for (const binding of clashing) {
          problems.push(`${binding.name}: is a secret and must not also be a plain variable`);
        }
        if (problems.length > 0) {
          throw new StageConfigError(
            `invalid secrets for stage "${$app.stage}":\n${problems.map((p) => `  ${p}`).join("\n")}\nSet them with: sst secret set <Name> <value> --stage ${$app.stage}`,
          );
        }
        const bound = Object.entries(values).filter(([, value]) => value !== NOT_SET);
        return [...declared, ...bound.map(([name, text]) => ({ type: "secret_text", name, text }))];
      },
    );
    return undefined;
  };
}
