/**
 * The Prometheus text exposition format, version 0.0.4: what every Prometheus-compatible
 * scraper reads. Written here rather than taken from a client library because Regent exports a
 * handful of values computed per scrape, and the libraries are built around process-wide
 * registries that do not fit a Worker.
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface MetricFamily {
  name: string;
  help: string;
  type: "gauge" | "counter";
  samples: { labels?: Record<string, string>; value: number }[];
}

/** A label value in double quotes: backslash, double quote and line feed are escaped. */
function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes only backslash and line feed. */
function helpText(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function sampleValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** One text document: each family's HELP and TYPE lines, then its samples; a final line feed. */
export function exposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${helpText(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      const set =
        labels.length === 0
          ? ""
          : `{${labels.map(([name, value]) => `${name}="${labelValue(value)}"`).join(",")}}`;
      lines.push(`${family.name}${set} ${sampleValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
