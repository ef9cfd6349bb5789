/**
 * A small Prometheus registry: counters and gauges with fixed label names, rendered in the text
 * exposition format. Enough for Parley's handful of series without a dependency.
 */
type Labels = Record<string, string>;

interface Series {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** Rendered labels → value; a cell is updated in place, so a count is one lookup (none unlabelled). */
  values: Map<string, { n: number }>;
  collect?: () => number;
}

const keyCache = new WeakMap<Labels, string>();
/**
 * One-label keys by label name, then value: a fresh `{ code }` per call is rendered once per value.
 * Label values come from small fixed sets (error codes, routes, caps), as the series' own keys do.
 */
const singleKeys = new Map<string, Map<string, string>>();
const renderOne = (name: string, value: string): string => `${name}="${value.replace(/["\\\n]/g, '_')}"`;
/** Label objects reused by callers (per route) are rendered once; one-label objects by name and value. */
function labelKey(labels: Labels): string {
  let k = keyCache.get(labels);
  if (k !== undefined) return k;
  let only: string | undefined;
  let count = 0;
  for (const name in labels) {
    only = name;
    if (++count > 1) break;
  }
  if (count === 1) {
    const name = only as string;
    const value = labels[name];
    let byValue = singleKeys.get(name);
    if (byValue === undefined) singleKeys.set(name, (byValue = new Map()));
    k = byValue.get(value);
    if (k === undefined) byValue.set(value, (k = renderOne(name, value)));
    return k;
  }
  k = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => renderOne(n, v)).join(',');
  keyCache.set(labels, k);
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
    let unlabelled: { n: number } | null = null;
    const cell = (k: string): { n: number } => {
      let c = s.values.get(k);
      if (c === undefined) s.values.set(k, (c = { n: 0 }));
      return c;
    };
    return (labels, by = 1) => {
      if (labels) cell(labelKey(labels)).n += by;
      else (unlabelled ??= cell('')).n += by;
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
    if (labels) return s.values.get(labelKey(labels))?.n ?? 0;
    let total = 0;
    for (const v of s.values.values()) total += v.n;
    return total;
  }

  render(): string {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
      if (s.collect) lines.push(`${s.name} ${s.collect()}`);
      else if (s.values.size === 0) lines.push(`${s.name} 0`);
      else for (const [k, v] of s.values) lines.push(k ? `${s.name}{${k}} ${v.n}` : `${s.name} ${v.n}`);
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
    /** Requests read and answered on the socket by the lane (protocol/lane.ts: subscribe, and publish and signal by GET), not node:http. */
    laneRequests: m.counter('parley_lane_requests_total', 'Subscribe, publish and signal GETs served by the lane instead of node:http'),
  };
}
export type ParleyMetrics = ReturnType<typeof createParleyMetrics>;
