import fc from "fast-check";

/**
 * fast-check arbitraries from the JSON Schema (2020-12) subset the OpenAPI document uses:
 * `$ref` into `$defs`, `anyOf`/`oneOf`, `type` (one or a list), `enum`, `const`, string
 * `pattern`/`minLength`/`maxLength`/`format: date-time`, number bounds, arrays, objects with
 * `properties`/`required`/`additionalProperties`. `valid` draws values the schema accepts;
 * `invalid` draws values it (most likely) refuses; the caller checks with a real validator.
 */
export type Schema = {
  $ref?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
};

/** Named arbitraries for properties whose good values are facts of the database (ids). */
export type Hints = Record<string, fc.Arbitrary<unknown> | undefined>;

const anyJson = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>;

const EARLIEST = Date.parse("1990-01-01T00:00:00Z");
const LATEST = Date.parse("2100-01-01T00:00:00Z");
const instant = fc
  .integer({ min: EARLIEST, max: LATEST })
  .chain((ms) =>
    fc.constantFrom(
      new Date(ms).toISOString(),
      new Date(ms).toISOString().replace(".000Z", "Z"),
      new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+02:00"),
    ),
  );

export class SchemaArbitraries {
  constructor(
    private readonly defs: Record<string, Schema>,
    private readonly hints: Hints = {},
  ) {}

  resolve(schema: Schema): Schema {
    let current = schema;
    while (current.$ref) {
      const name = current.$ref.replace(/^#\/(\$defs|components\/schemas)\//, "");
      const target = this.defs[name];
      if (!target) throw new Error(`no schema ${current.$ref}`);
      current = target;
    }
    return current;
  }

  private types(schema: Schema): string[] {
    if (schema.type === undefined) return [];
    return Array.isArray(schema.type) ? schema.type : [schema.type];
  }

  private string(schema: Schema): fc.Arbitrary<string> {
    const min = schema.minLength ?? 0;
    const max = schema.maxLength ?? Number.POSITIVE_INFINITY;
    const fits = (s: string) => {
      const length = [...s].length;
      return length >= min && length <= max;
    };
    if (schema.format === "date-time") {
      return schema.pattern
        ? instant.filter((s) => new RegExp(schema.pattern as string, "u").test(s))
        : instant;
    }
    if (schema.pattern) {
      const pattern = new RegExp(schema.pattern, "u");
      // Drawn from the same pattern with its long repetitions capped (a subset of its language,
      // and far cheaper to draw), then checked against the real one.
      const capped = new RegExp(
        (schema.pattern as string).replace(/\{(\d+),(\d+)\}/g, (_, a: string, b: string) =>
          Number(a) < 40 && Number(b) > 40 ? `{${a},40}` : `{${a},${b}}`,
        ),
        "u",
      );
      let matching: fc.Arbitrary<string>;
      try {
        matching = fc.stringMatching(capped);
      } catch {
        matching = fc.string({
          minLength: Math.max(1, min),
          maxLength: Math.max(min, Math.min(max, 60)),
        });
      }
      return matching.filter((s) => pattern.test(s) && fits(s));
    }
    const longest = Math.max(min, Math.min(max, 60));
    return fc.oneof(
      fc.string({ minLength: min, maxLength: longest }),
      fc.string({ unit: "grapheme", minLength: min, maxLength: longest }).filter(fits),
    );
  }

  /** Values the schema accepts. */
  valid(schema: Schema, name?: string, depth = 0): fc.Arbitrary<unknown> {
    const hint = name !== undefined ? this.hints[name] : undefined;
    if (hint) return fc.oneof({ weight: 4, arbitrary: hint }, this.plain(schema, depth));
    return this.plain(schema, depth);
  }

  private plain(given: Schema, depth: number): fc.Arbitrary<unknown> {
    const schema = this.resolve(given);
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((s) => this.valid(s, undefined, depth)));
    if (schema.allOf?.length === 1) return this.valid(schema.allOf[0] as Schema, undefined, depth);
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const types = this.types(schema);
    if (types.length === 0) return anyJson;
    return fc.oneof(...types.map((type) => this.ofType(schema, type, depth)));
  }

  private ofType(schema: Schema, type: string, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case "null":
        return fc.constant(null);
      case "boolean":
        return fc.boolean();
      case "integer":
        return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
      case "number":
        return fc.double({
          min: schema.minimum ?? -1e6,
          max: schema.maximum ?? 1e6,
          noNaN: true,
          noDefaultInfinity: true,
        });
      case "string":
        return this.string(schema);
      case "array":
        return fc.array(schema.items ? this.valid(schema.items, undefined, depth + 1) : anyJson, {
          maxLength: 3,
        });
      case "object":
        return this.object(schema, depth);
      default:
        throw new Error(`no arbitrary for type ${type}`);
    }
  }

  private object(schema: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, property] of Object.entries(properties)) {
      model[key] = this.valid(property, key, depth + 1);
    }
    const fixed = fc.record(model, {
      requiredKeys: Object.keys(properties).filter((k) => required.has(k)),
    });
    const extra = schema.additionalProperties;
    if (Object.keys(properties).length === 0 && extra !== false) {
      const values = typeof extra === "object" ? this.valid(extra, undefined, depth + 1) : anyJson;
      return fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), values, { maxKeys: 3 });
    }
    return fixed as fc.Arbitrary<Record<string, unknown>>;
  }

  /**
   * Values the schema most likely refuses: a wrong type, a string outside its pattern or
   * lengths (NUL, unpaired surrogates, blanks, too long), a number outside its bounds, an object
   * missing a required property or holding one nobody declared.
   */
  invalid(given: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = this.resolve(given);
    const wrongType = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.string({ maxLength: 10 }),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.constant({ unexpected: 1 }),
    );
    const options: fc.Arbitrary<unknown>[] = [wrongType];
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) {
      for (const alternative of alternatives) {
        if (this.types(this.resolve(alternative)).includes("object") && depth < 3) {
          options.push(this.invalid(alternative, depth + 1));
        }
      }
    }
    const types = this.types(schema);
    if (types.length === 0 && !alternatives) {
      // Any JSON: what JSON Schema cannot refuse but PostgreSQL's jsonb does (NUL and unpaired
      // surrogates in strings and keys) and nesting deeper than the server takes.
      options.push(
        fc
          .constantFrom("\u0000", "\ud800", "\udfff")
          .chain((bad) =>
            fc.constantFrom({ text: `a${bad}` }, { [`k${bad}`]: 1 }, [[`x${bad}`]], `s${bad}`),
          ),
        fc.integer({ min: 33, max: 300 }).map((depth) => {
          let value: unknown = 1;
          for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { d: value };
          return value;
        }),
      );
    }
    if (schema.format === "date-time") {
      options.push(
        fc.constantFrom(
          "2025-02-30T00:00:00Z",
          "2025-01-01T10:00:00",
          "2025-01-01",
          "0000-01-01T00:00:00Z",
          "10000-01-01T00:00:00Z",
          "2025-01-01T25:00:00Z",
          "2025-01-01 10:00:00Z",
          "2025-01-01T10:00:00z",
          "2025-06-30T23:59:60Z",
        ),
      );
    }
    if (schema.enum) options.push(fc.string({ maxLength: 20 }));
    if (types.includes("string")) {
      const max = schema.maxLength ?? 1000;
      options.push(
        fc.constantFrom("", " ", "\t\n ", "a\u0000b", "\ud800", "x\udfffy", "%00", "../x"),
        fc.constant("y".repeat(max + 1)),
        fc.constant(`  ${"z".repeat(Math.min(max, 3000))}   `),
        fc.string({ unit: "binary", maxLength: 30 }),
      );
    }
    if (types.includes("integer") || types.includes("number")) {
      options.push(
        fc.constantFrom(
          (schema.minimum ?? 0) - 1,
          (schema.maximum ?? 1e9) + 1,
          1.5,
          "1",
          -0.25,
          1e308,
          "1e2",
          "0x10",
          " 1",
          "999999999999",
        ),
      );
    }
    if (types.includes("object") && schema.properties && depth < 3) {
      const properties = Object.entries(schema.properties);
      const valid = this.object(schema, depth);
      const required = schema.required ?? [];
      if (required.length > 0) {
        options.push(
          fc
            .tuple(valid, fc.constantFrom(...required))
            .map(([value, key]) =>
              Object.fromEntries(Object.entries(value).filter(([k]) => k !== key)),
            ),
        );
      }
      if (schema.additionalProperties === false) {
        options.push(
          fc
            .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), anyJson)
            .filter(([, key]) => !(key in (schema.properties ?? {})) && key !== "__proto__")
            .map(([value, key, extra]) => ({ ...value, [key]: extra })),
        );
      }
      if (properties.length > 0) {
        options.push(
          fc
            .tuple(valid, fc.constantFrom(...properties))
            .chain(([value, [key, property]]) =>
              this.invalid(property, depth + 1).map((bad) => ({ ...value, [key]: bad })),
            ),
        );
      }
    }
    return fc.oneof(...options);
  }
}
