/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, as JavaScript sorts strings),
 * recursively, no whitespace, numbers and strings as JSON.stringify writes them — the rules
 * of RFC 8785 (JCS) for the values a generator can return. Equal content always gives equal
 * text, hence equal `content_sha256`, whatever order a generator built its keys in.
 *
 * Throws a TypeError for what JSON cannot hold (undefined, functions, symbols, bigints,
 * non-finite numbers, cycles), where JSON.stringify would silently drop or alter it.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") return write(toJSON.call(value), ancestors);
      if (ancestors.has(value)) throw new TypeError("a value that contains itself is not JSON");
      ancestors.add(value);
      let text: string;
      if (Array.isArray(value)) {
        text = `[${value.map((item) => write(item, ancestors)).join(",")}]`;
      } else {
        const record = value as Record<string, unknown>;
        const parts: string[] = [];
        for (const key of Object.keys(record).sort()) {
          // As JSON.stringify does: a property whose value is undefined is absent.
          if (record[key] === undefined) continue;
          parts.push(`${JSON.stringify(key)}:${write(record[key], ancestors)}`);
        }
        text = `{${parts.join(",")}}`;
      }
      ancestors.delete(value);
      return text;
    }
    default:
      throw new TypeError(`a ${typeof value} is not a JSON value`);
  }
}

const encoder = new TextEncoder();

/** SHA-256 of the UTF-8 text, lower-case hex; Web Crypto, so the same in Node and Workers. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hex = "";
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
