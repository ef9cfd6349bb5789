/**
 * A small Prometheus registry: counters and gauges with fixed label names, rendered in the text
 * exposition format. Enough for Parley's handful of series without a dependency.
 */
type Labels = Record<string, string>;

interface Series {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, number>;
  collect?: () => number;
}

const keyCache = new WeakMap<Labels, string>();
/** Label objects reused by callers (per route) are rendered once. */
function labelKey(labels: Labels): string {
  let k = keyCache.get(labels);
  if (k === undefined) {
    k = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `${n}="${v.replace(/["\\\n]/g, '_')}"`).join(',');
    keyCache.set(labels, k);
  }
  return k;
}

export class Metrics {
  private readonly series = new Map<string, Series>();

  private get(name: string, help: string, type: Series['type']): Series {
    let s = this.series.get(name);
    if (!s) {
      s = { name, help, type, values: new Map() };
      this.series.set(name, s);
    }
    return s;
  }

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const s = this.get(name, help, 'counter');
    return (labels, by = 1) => {
      const k = labels ? labelKey(labels) : '';
      s.values.set(k, (s.values.get(k) ?? 0) + by);
    };
  }

  /** A gauge read at scrape time. */
  gauge(name: string, help: string, collect: () => number): void {
    this.get(name, help, 'gauge').collect = collect;
  }

  value(name: string, labels?: Labels): number {
    const s = this.series.get(name);
    if (!s) return 0;
    if (s.collect) return s.collect();
    if (labels) return s.values.get(labelKey(labels)) ?? 0;
    let total = 0;
    for (const v of s.values.values()) total += v;
    return total;
  }

  render(): string {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
      if (s.collect) lines.push(`${s.name} ${s.collect()}`);
      else if (s.values.size === 0) lines.push(`${s.name} 0`);
      else for (const [k, v] of s.values) lines.push(k ? `${s.name}{${k}} ${v}` : `${s.name} ${v}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** The series Parley exports; created once per server. */
export function createParleyMetrics(m: Metrics) {
  return {
    requests: m.counter('parley_requests_total', 'HTTP requests by route'),
    publishes: m.counter('parley_publishes_total', 'Accepted publishes and signals'),
    deliveries: m.counter('parley_deliveries_total', 'Envelopes delivered to subscribers'),
    denials: m.counter('parley_access_denials_total', 'Requests denied by the Access Manager, by code'),
    errors: m.counter('parley_errors_total', 'Requests answered with an error, by code'),
    /** One per refusal by a resource cap; `cap` is the limits.* setting that refused (docs/security.md "Limits"). */
    capRefusals: m.counter('parley_cap_refusals_total', 'Connections and requests refused by a resource cap, by cap (the limits.* setting)'),
  };
}
export type ParleyMetrics = ReturnType<typeof createParleyMetrics>;
