// @ts-expect-error: the parser ships no types; its shape is declared below
import parsePrometheus from 'parse-prometheus-text-format';

export interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

/** Fetch a /metrics endpoint and parse it as Prometheus text (a parse error throws). */
export async function scrape(url: string): Promise<{ contentType: string; families: PromFamily[] }> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  const text = await res.text();
  return {
    contentType: res.headers.get('content-type') ?? '',
    families: (parsePrometheus as (t: string) => PromFamily[])(text),
  };
}

/** One sample's value, by metric name and labels; undefined when absent. */
export function sample(families: PromFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  const m = families
    .find((f) => f.name === name)
    ?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m === undefined ? undefined : Number(m.value);
}
