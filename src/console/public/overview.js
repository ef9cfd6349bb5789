// Overview: per node, health and live charts of the last 15 minutes (uPlot, served from node_modules).
import { badge, fill, h, say, errorText, time } from './ui.js';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

/** `xRange()` gives the window's [start, end] in seconds: the x axis always spans the last 15 minutes. */
function chartOptions(title, width, labels, xRange) {
  return {
    title,
    width,
    height: 150,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: () => xRange() }, y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] } },
    series: [{}, ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: false } }))],
    axes: [{ stroke: '#64748b', grid: { stroke: '#e2e8f0' } }, { stroke: '#64748b', grid: { stroke: '#e2e8f0' }, size: 48 }],
  };
}

/** Keeps one uPlot per (node, chart); rebuilt when its series change, otherwise fed new data. */
class Chart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.key = '';
    this.range = [0, 1];
  }

  update(title, labels, data, windowSec, nowSec) {
    this.range = [nowSec - windowSec, nowSec];
    const width = Math.max(260, this.container.clientWidth - 8);
    const key = `${labels.join('|')}@${width}`;
    if (this.plot === null || key !== this.key) {
      this.plot?.destroy();
      this.container.replaceChildren();
      this.plot = new uPlot(chartOptions(title, width, labels, () => this.range), data, this.container);
      this.key = key;
    } else {
      this.plot.setData(data);
    }
  }

  destroy() {
    this.plot?.destroy();
    this.plot = null;
  }
}

function denialCodes(samples) {
  const codes = new Set();
  for (const s of samples) for (const code of Object.keys(s.denials)) codes.add(code);
  return [...codes].sort();
}

function nodeCard(node) {
  const charts = { load: h('div', { class: 'chart' }), rates: h('div', { class: 'chart' }), denials: h('div', { class: 'chart' }) };
  const head = h('div', { class: 'node-head' });
  const figures = h('div', { class: 'figures' });
  const card = h('section', { class: 'card node', 'data-testid': 'node-card', 'data-node': node.nodeId }, head, figures, charts.load, charts.rates, charts.denials);
  return { card, head, figures, charts, plots: { load: new Chart(charts.load), rates: new Chart(charts.rates), denials: new Chart(charts.denials) } };
}

function figure(label, value, testid) {
  return h('div', { class: 'figure' }, h('span', { class: 'value', 'data-testid': testid, text: value }), h('span', { class: 'label', text: label }));
}

export function mountOverview({ api, root, setNode }) {
  const status = h('p', { class: 'say info', text: 'Loading…' });
  const grid = h('div', { class: 'nodes', 'data-testid': 'nodes' });
  fill(root, h('div', { class: 'view-head' }, h('h2', { text: 'Nodes' }), h('p', { class: 'sub', text: 'Health and load of every node, sampled each few seconds, last 15 minutes.' })), status, grid);
  const cards = new Map();
  let timer = null;
  let active = false;

  function render(stats) {
    const nowSec = stats.nowMs / 1000;
    const windowSec = stats.windowMs / 1000;
    const seen = new Set();
    setNode(stats.nodes.find((n) => n.self)?.nodeId ?? '');
    for (const node of stats.nodes) {
      seen.add(node.nodeId);
      let c = cards.get(node.nodeId);
      if (!c) {
        c = nodeCard(node);
        cards.set(node.nodeId, c);
        grid.append(c.card);
      }
      const last = node.samples[node.samples.length - 1];
      const health = node.stale ? badge('no recent sample', 'warn', 'node-health') : last && last.ok ? badge('healthy', 'ok', 'node-health') : badge('unavailable', 'bad', 'node-health');
      fill(c.head, h('h3', {}, node.nodeId, node.self ? h('span', { class: 'muted', text: ' · this node' }) : null), health,
        last && !last.ok && last.reason ? h('span', { class: 'muted', text: last.reason }) : null);
      const denied = node.samples.reduce((n, s) => n + Object.values(s.denials).reduce((a, b) => a + b, 0), 0);
      fill(c.figures,
        figure('parked long-polls', last ? last.parkedLongPolls : '–', 'fig-parked'),
        figure('connections', last ? last.connections : '–', 'fig-connections'),
        figure('publishes/s', last ? last.publishesPerSec : '–', 'fig-publishes'),
        figure('deliveries/s', last ? last.deliveriesPerSec : '–', 'fig-deliveries'),
        figure('denials, 15 min', denied, 'fig-denials'));
      const xs = node.samples.map((s) => s.t / 1000);
      c.plots.load.update('Long-polls and connections', ['parked long-polls', 'connections'], [xs, node.samples.map((s) => s.parkedLongPolls), node.samples.map((s) => s.connections)], windowSec, nowSec);
      c.plots.rates.update('Publishes and deliveries per second', ['publishes/s', 'deliveries/s'], [xs, node.samples.map((s) => s.publishesPerSec), node.samples.map((s) => s.deliveriesPerSec)], windowSec, nowSec);
      const codes = denialCodes(node.samples);
      const labels = codes.length > 0 ? codes : ['denials'];
      const series = codes.length > 0 ? codes.map((code) => node.samples.map((s) => s.denials[code] ?? 0)) : [node.samples.map(() => 0)];
      c.plots.denials.update('Denials by reason (per sample)', labels, [xs, ...series], windowSec, nowSec);
    }
    for (const [id, c] of cards) {
      if (seen.has(id)) continue;
      for (const p of Object.values(c.plots)) p.destroy();
      c.card.remove();
      cards.delete(id);
    }
    say(status, 'info', `${stats.nodes.length} node${stats.nodes.length === 1 ? '' : 's'} · updated ${time(Date.now())} · a sample every ${stats.intervalMs / 1000} s`);
  }

  async function refresh() {
    if (!active) return;
    try {
      const stats = await api.stats();
      if (!active) return;
      render(stats);
      timer = setTimeout(refresh, Math.max(1000, stats.intervalMs));
    } catch (err) {
      say(status, 'error', errorText(err));
      timer = setTimeout(refresh, 5000);
    }
  }

  return {
    show() {
      active = true;
      void refresh();
    },
    hide() {
      active = false;
      clearTimeout(timer);
    },
    render,
  };
}
