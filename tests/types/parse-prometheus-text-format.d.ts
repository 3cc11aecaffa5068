/** The parser the metrics tests read `/metrics` with; the package ships no types. */
declare module "parse-prometheus-text-format" {
  export interface ParsedMetricFamily {
    name: string;
    help: string;
    /** Upper case: "COUNTER", "GAUGE", "SUMMARY", "HISTOGRAM", "UNTYPED". */
    type: string;
    metrics: { value: string; labels?: Record<string, string> }[];
  }
  export default function parsePrometheusTextFormat(text: string): ParsedMetricFamily[];
}
