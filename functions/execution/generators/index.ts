import type { GeneratorManifest } from "../../../db/catalog";
import { demoGenerator } from "./demo";
import { type HttpGeneratorConfig, httpGenerator } from "./http";
import { catalogOf, createRegistry, type GeneratorRegistry } from "./registry";

export { demoGenerator } from "./demo";
export { type HttpGeneratorConfig, httpGenerator } from "./http";
export * from "./registry";

/** The generators Regent ships: `demo` and `http`. */
export function builtInGenerators(http: HttpGeneratorConfig): GeneratorRegistry {
  return createRegistry([demoGenerator, httpGenerator(http)]);
}

/** What the built-in generators publish to the catalog (their URL and headers play no part). */
export function builtInCatalog(): GeneratorManifest[] {
  return catalogOf(builtInGenerators({ timeoutMs: 1 }));
}
