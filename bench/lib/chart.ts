/**
 * The suite's chart, written as SVG by hand (no charting package): deliveries per server-CPU-second
 * (left; solid: answers coalescing, dashed: one message per answer) and publish→deliver p99 (right)
 * against the number of subscribers, one line per server.
 */

export interface ChartRow {
  server: string;
  n: number;
  coalescedPerCpuSecond: number;
  singlePerCpuSecond: number;
  p99Ms: number;
}

const COLORS: Record<string, string> = { parley: '#d9480f', baseline: '#1c7ed6', floor: '#868e96', nchan: '#2f9e44' };
const LABELS: Record<string, string> = { parley: 'Parley', baseline: 'node:http baseline', floor: 'node:net floor', nchan: 'nginx + nchan' };
const PANEL_W = 470;
const PANEL_H = 330;
const MARGIN = { left: 70, right: 20, top: 30, bottom: 48 };

/** About as many 11-px characters as fit across the chart. */
const SETTING_CHARS_PER_LINE = 150;

/** Splits a '; '-separated description into lines of at most `max` characters (a longer part stands alone). */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  for (const part of text.split('; ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 2 + part.length <= max) lines[last] += `; ${part}`;
    else lines.push(part);
  }
  return lines;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1, 2, 5 × 10^k steps giving about five ticks up to `max`. */
function ticks(max: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(v);
  return out;
}

function short(v: number): string {
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(v % 1_000_000 === 0 ? 0 : 1)}M`;
  if (v >= 1000) return `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k`;
  return String(Math.round(v * 10) / 10);
}

interface Series {
  server: string;
  dashed: boolean;
  points: Array<{ n: number; v: number }>;
}

function panel(x0: number, y0: number, title: string, yLabel: string, series: Series[], ns: number[]): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const values = series.flatMap((s) => s.points.map((p) => p.v)).filter(Number.isFinite);
  const yTicks = ticks(Math.max(...values, 1) * 1.1);
  const yMax = yTicks[yTicks.length - 1] || 1;
  // Subscriber counts spread over decades: a log axis when they do, else linear; ticks at the Ns run.
  const logX = ns.length > 1 && ns[ns.length - 1] / ns[0] >= 5;
  const fx = (n: number): number => {
    if (ns.length === 1) return w / 2;
    const [lo, hi] = [ns[0], ns[ns.length - 1]];
    const t = logX ? (Math.log(n) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (n - lo) / (hi - lo);
    return 20 + t * (w - 40);
  };
  const fy = (v: number): number => h - (v / yMax) * h;
  const parts: string[] = [`<g transform="translate(${x0 + MARGIN.left},${y0 + MARGIN.top})">`];
  parts.push(`<text x="${w / 2}" y="-14" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>`);
  for (const t of yTicks) {
    parts.push(`<line x1="0" x2="${w}" y1="${fy(t)}" y2="${fy(t)}" stroke="#e9ecef"/>`);
    parts.push(`<text x="-8" y="${fy(t) + 4}" text-anchor="end" font-size="11" fill="#495057">${short(t)}</text>`);
  }
  for (const n of ns) {
    parts.push(`<line x1="${fx(n)}" x2="${fx(n)}" y1="${h}" y2="${h + 5}" stroke="#495057"/>`);
    parts.push(`<text x="${fx(n)}" y="${h + 18}" text-anchor="middle" font-size="11" fill="#495057">${n.toLocaleString('en-US')}</text>`);
  }
  parts.push(`<line x1="0" x2="${w}" y1="${h}" y2="${h}" stroke="#495057"/><line x1="0" x2="0" y1="0" y2="${h}" stroke="#495057"/>`);
  parts.push(`<text x="${w / 2}" y="${h + 38}" text-anchor="middle" font-size="12">subscribers${logX ? ' (log scale)' : ''}</text>`);
  parts.push(`<text transform="translate(-56,${h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`);
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.v)).sort((a, b) => a.n - b.n);
    if (pts.length === 0) continue;
    const color = COLORS[s.server] ?? '#495057';
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${fx(p.n).toFixed(1)},${fy(p.v).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of pts) {
      parts.push(
        `<circle cx="${fx(p.n).toFixed(1)}" cy="${fy(p.v).toFixed(1)}" r="3.5" fill="${s.dashed ? '#fff' : color}" stroke="${color}" stroke-width="2"/>`,
      );
      parts.push(`<text x="${(fx(p.n) + 6).toFixed(1)}" y="${(fy(p.v) - 6).toFixed(1)}" font-size="10" fill="${color}">${short(p.v)}</text>`);
    }
  }
  parts.push('</g>');
  return parts.join('\n');
}

export function renderChart(rows: readonly ChartRow[], subtitle: string): string {
  const servers = [...new Set(rows.map((r) => r.server))];
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const of = (server: string, f: (r: ChartRow) => number): Array<{ n: number; v: number }> =>
    rows.filter((r) => r.server === server).map((r) => ({ n: r.n, v: f(r) }));
  const throughput: Series[] = servers.flatMap((server) => [
    { server, dashed: false, points: of(server, (r) => r.coalescedPerCpuSecond) },
    { server, dashed: true, points: of(server, (r) => r.singlePerCpuSecond) },
  ]);
  const latency: Series[] = servers.map((server) => ({ server, dashed: false, points: of(server, (r) => r.p99Ms) }));
  const width = 2 * PANEL_W;
  // The header: the title, the setting wrapped at its '; ' parts, the legend, then the note on dashes.
  const settingLines = wrap(subtitle, SETTING_CHARS_PER_LINE);
  let y = 22;
  const header: string[] = [`<text x="20" y="${y}" font-size="16" font-weight="700">Long-poll fan-out, one channel, ~100-byte messages</text>`];
  for (const line of settingLines) header.push(`<text x="20" y="${(y += 15)}" font-size="11" fill="#495057">${esc(line)}</text>`);
  y += 22;
  servers.forEach((s, i) => {
    const x = 20 + i * 190;
    header.push(
      `<line x1="${x}" x2="${x + 28}" y1="${y - 4}" y2="${y - 4}" stroke="${COLORS[s] ?? '#495057'}" stroke-width="3"/><text x="${x + 34}" y="${y}" font-size="12">${esc(LABELS[s] ?? s)}</text>`,
    );
  });
  const note = 'solid: answers coalesce (several messages per answer); dashed: one message per answer';
  header.push(`<text x="20" y="${(y += 18)}" font-size="11" fill="#495057">${esc(note)}</text>`);
  // Room for the panel titles, which sit above each panel's plot area.
  const panelsTop = y + 16;
  const height = panelsTop + PANEL_H + 12;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${header.join('\n')}
${panel(0, panelsTop, 'Deliveries per server-CPU-second (higher is better)', 'deliveries / CPU-s', throughput, ns)}
${panel(PANEL_W, panelsTop, 'Publish → deliver p99 (lower is better)', 'p99, ms', latency, ns)}
</svg>
`;
}
