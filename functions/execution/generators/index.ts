import { demoGenerator } from "./demo";
import { type HttpGeneratorConfig, httpGenerator } from "./http";
import { createRegistry, type GeneratorRegistry } from "./registry";

export { demoGenerator } from "./demo";
export { type HttpGeneratorConfig, httpGenerator } from "./http";
export * from "./registry";

/** The generators Regent ships: `demo` and `http`. */
export function builtInGenerators(http: HttpGeneratorConfig): GeneratorRegistry {
  return createRegistry([demoGenerator, httpGenerator(http)]);
}
