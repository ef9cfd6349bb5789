// Access: mint a v3 token and see it decoded, inspect and revoke a token, explain one decision, list and
// withdraw v2 grants. Every call is a signed request (grant-token, revoke-token and audit are PubNub's;
// inspect and explain are Parley's /v1/admin API).
import { badge, busy, field, fill, h, json, names, say } from './ui.js';

const KINDS = { channel: 'channels', channels: 'channels', group: 'groups', groups: 'groups', uuid: 'uuids', uuids: 'uuids' };
const BITS = { read: 1, r: 1, write: 2, w: 2, manage: 4, m: 4, delete: 8, d: 8, get: 32, g: 32, update: 64, u: 64, join: 128, j: 128 };
const OPERATIONS = [
  'publish', 'signal', 'subscribe', 'heartbeat', 'leave', 'here_now', 'here_now_global', 'where_now_other', 'get_state', 'set_state',
  'history', 'fetch_messages', 'message_counts', 'delete_messages', 'add_message_action', 'send_file', 'download_file',
  'add_channels_to_group', 'list_groups', 'get_uuid_metadata', 'set_uuid_metadata', 'get_channel_metadata', 'set_channel_metadata',
  'get_members', 'set_members', 'get_memberships', 'set_memberships',
];

/** Lines "channel chat.lobby read,write" → {channels: {…}, groups: {…}, uuids: {…}}; throws on a bad line. */
export function parseGrantLines(text, what) {
  const out = { channels: {}, groups: {}, uuids: {}, users: {}, spaces: {} };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(\S+)\s+(\S+)$/.exec(line);
    const kind = m && KINDS[m[1].toLowerCase()];
    if (!m || !kind) throw new Error(`${what}, line ${i + 1}: write "channel|group|uuid <name> <permissions>", e.g. "channel chat.* read,write"`);
    let bits = 0;
    for (const p of m[3].toLowerCase().split(/[,+]/)) {
      if (!(p in BITS)) throw new Error(`${what}, line ${i + 1}: unknown permission "${p}" (read write manage delete get update join)`);
      bits |= BITS[p];
    }
    out[kind][m[2]] = bits;
  });
  return out;
}

function stateKind(state) {
  return state === 'valid' ? 'ok' : state === 'expired' || state === 'issued_before_epoch' ? 'warn' : 'bad';
}

/** The decoded token as the console shows it: state, lifetime, authorized uuid, every grant. */
export function tokenView(result, testid) {
  const t = result.token;
  const rows = [];
  if (t) {
    for (const [section, maps] of [['resource', t.resources], ['pattern', t.patterns]]) {
      for (const kind of ['channels', 'groups', 'uuids']) {
        for (const [name, entry] of Object.entries(maps[kind])) {
          rows.push(h('tr', { 'data-testid': 'grant-row' }, h('td', { text: section }), h('td', { text: kind.slice(0, -1) }), h('td', {}, h('code', { text: name })), h('td', { text: entry.permissions.join(', ') || 'none' })));
        }
      }
    }
  }
  return h('div', { class: 'token-view', 'data-testid': testid },
    h('div', { class: 'token-state' }, badge(result.state.replace(/_/g, ' '), stateKind(result.state), `${testid}-state`),
      result.verified ? null : badge('signature not verified', 'bad'),
      result.signedWith === 'previous' ? badge('signed with the previous secret', 'warn') : null,
      h('span', { class: 'muted', text: result.reason })),
    t
      ? h('dl', { class: 'facts' },
        h('dt', { text: 'issued' }), h('dd', { text: t.issuedAt }),
        h('dt', { text: 'expires' }), h('dd', { text: `${t.expiresAt} (ttl ${t.ttlMinutes} min)` }),
        h('dt', { text: 'authorized uuid' }), h('dd', { 'data-testid': `${testid}-uuid`, text: t.authorizedUuid ?? '(any uuid)' }),
        h('dt', { text: 'meta' }), h('dd', {}, h('code', { text: json(t.meta) })))
      : null,
    rows.length > 0
      ? h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', { text: '' }), h('th', { text: 'kind' }), h('th', { text: 'name' }), h('th', { text: 'permissions' }))), h('tbody', {}, rows))
      : null);
}

function mintCard(api, onMinted) {
  const ttl = h('input', { type: 'number', min: 1, max: 43200, value: 60, 'data-testid': 'mint-ttl' });
  const uuid = h('input', { placeholder: 'only this uuid may use it (optional)', 'data-testid': 'mint-uuid', autocomplete: 'off' });
  const resources = h('textarea', { rows: 3, 'data-testid': 'mint-resources' }, 'channel chat.lobby read,write\nchannel chat.lobby-pnpres read');
  const patterns = h('textarea', { rows: 2, 'data-testid': 'mint-patterns', placeholder: 'channel ^team\\.[a-z]+$ read' });
  const meta = h('input', { value: '{}', 'data-testid': 'mint-meta', autocomplete: 'off' });
  const out = h('p', { class: 'say info', 'data-testid': 'mint-status' });
  const token = h('textarea', { rows: 3, readonly: true, class: 'mono', 'data-testid': 'mint-token' });
  const decoded = h('div', { 'data-testid': 'mint-decoded-wrap' });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'mint-submit', text: 'Mint token' });
  const form = h('form', {
    class: 'stack',
    onsubmit: (e) => {
      e.preventDefault();
      void busy(button, out, async () => {
        let body;
        try {
          const metaValue = JSON.parse(meta.value || '{}');
          body = { ttl: Number(ttl.value), permissions: { resources: parseGrantLines(resources.value, 'resources'), patterns: parseGrantLines(patterns.value, 'patterns'), meta: metaValue } };
        } catch (err) {
          say(out, 'error', err.message);
          return;
        }
        if (uuid.value.trim()) body.permissions.uuid = uuid.value.trim();
        const answer = await api.grantToken(body);
        token.value = answer.data.token;
        say(out, 'ok', 'Token minted (signed by Parley with the current secret key). Decoded:');
        fill(decoded, tokenView(await api.inspectToken(answer.data.token), 'mint-decoded'));
        onMinted(answer.data.token);
      });
    },
  },
  h('div', { class: 'row' }, field('ttl (minutes)', ttl), field('authorized uuid', uuid)),
  field('resources', resources, 'one per line: channel|group|uuid <name> <read,write,manage,delete,get,update,join>'),
  field('patterns', patterns, 'same form; the name is a RegEx matched against whole names'),
  field('meta (JSON object)', meta),
  h('div', { class: 'buttons' }, button), out, token, decoded);
  return h('section', { class: 'card' }, h('h3', { text: 'Mint a token' }), form);
}

function inspectCard(api) {
  const input = h('textarea', { rows: 3, class: 'mono', placeholder: 'paste a v3 token', 'data-testid': 'inspect-token' });
  const out = h('p', { class: 'say info', 'data-testid': 'inspect-status' });
  const result = h('div', {});
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'inspect-submit', text: 'Inspect' });
  const revoke = h('button', { type: 'button', class: 'danger', 'data-testid': 'revoke-token', text: 'Revoke this token', hidden: true });
  async function inspect() {
    const answer = await api.inspectToken(input.value.trim());
    fill(result, tokenView(answer, 'inspect-result'));
    say(out, 'info', '');
    revoke.hidden = !(answer.verified && answer.state !== 'revoked' && answer.state !== 'expired');
  }
  revoke.addEventListener('click', () => void busy(revoke, out, async () => {
    await api.revokeToken(input.value.trim());
    say(out, 'ok', 'Revoked: every node refuses it from now on (until it would have expired).');
    await inspect();
  }));
  const form = h('form', { class: 'stack', onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) void busy(button, out, inspect); } },
    input, h('div', { class: 'buttons' }, button, revoke), out, result);
  return { card: h('section', { class: 'card' }, h('h3', { text: 'Inspect or revoke a token' }), form), input, inspect };
}

function explainCard(api) {
  const operation = h('input', { list: 'operations', value: 'publish', 'data-testid': 'explain-operation', autocomplete: 'off' });
  const channels = h('input', { placeholder: 'chat.lobby, …', 'data-testid': 'explain-channels', autocomplete: 'off' });
  const groups = h('input', { placeholder: 'group names', 'data-testid': 'explain-groups', autocomplete: 'off' });
  const uuids = h('input', { placeholder: 'uuid resources', 'data-testid': 'explain-uuids', autocomplete: 'off' });
  const auth = h('textarea', { rows: 2, class: 'mono', placeholder: 'token or v2 auth key (empty: none)', 'data-testid': 'explain-auth' });
  const uuid = h('input', { placeholder: 'the caller\'s uuid', 'data-testid': 'explain-uuid', autocomplete: 'off' });
  const out = h('p', { class: 'say info' });
  const result = h('div', { 'data-testid': 'explain-result' });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'explain-submit', text: 'Explain' });
  const form = h('form', {
    class: 'stack',
    onsubmit: (e) => {
      e.preventDefault();
      void busy(button, out, async () => {
        const answer = await api.explain({ operation: operation.value.trim(), channels: names(channels.value), groups: names(groups.value), uuids: names(uuids.value), auth: auth.value.trim(), uuid: uuid.value.trim() });
        say(out, 'info', '');
        fill(result,
          h('div', { class: 'token-state' }, answer.decision.allowed ? badge('ALLOW', 'ok', 'explain-decision') : badge(`DENY ${answer.decision.code}`, 'bad', 'explain-decision'),
            answer.decision.allowed ? null : h('span', { class: 'muted', text: answer.decision.message })),
          h('ul', { class: 'rows' }, answer.checks.map((c) =>
            h('li', {}, badge(c.allowed ? 'allow' : 'deny', c.allowed ? 'ok' : 'bad'), h('span', { text: ` ${c.permissions.join('+')} on ${c.kind.slice(0, -1)} ${c.name === null ? '(keyset level)' : JSON.stringify(c.name)}: ` }), h('span', { class: 'muted', text: c.detail })))));
      });
    },
  },
  h('datalist', { id: 'operations' }, OPERATIONS.map((op) => h('option', { value: op }))),
  h('div', { class: 'row' }, field('operation', operation), field('as uuid', uuid)),
  h('div', { class: 'row' }, field('channels', channels), field('groups', groups), field('uuids', uuids)),
  field('credential', auth), h('div', { class: 'buttons' }, button), out, result);
  return h('section', { class: 'card' }, h('h3', { text: 'Explain a decision' }), form);
}

const LEVELS = [
  ['channels', 'channel', 'channel'],
  ['channel-groups', 'channel-group', 'channel-group'],
  ['objects', 'uuid', 'target-uuid'],
];
const FLAG_NAMES = { r: 'read', w: 'write', m: 'manage', d: 'delete', g: 'get', u: 'update', j: 'join' };

/** The audit payload (§7.2, subkey level) as rows {level, resource, authKey, flags, ttl, param}. */
function auditRows(payload) {
  const rows = [];
  const flagsOf = (entry) => Object.keys(FLAG_NAMES).filter((f) => entry[f] === 1).map((f) => FLAG_NAMES[f]);
  const add = (level, resource, authKey, entry, param) => {
    const flags = flagsOf(entry);
    if (flags.length > 0) rows.push({ level, resource, authKey, flags, ttl: entry.ttl, param });
  };
  add('subkey', '', '', payload, null);
  for (const [authKey, entry] of Object.entries(payload.auths || {})) add('subkey', '', authKey, entry, null);
  for (const [key, level, param] of LEVELS) {
    for (const [resource, entry] of Object.entries(payload[key] || {})) {
      add(level, resource, '', entry, param);
      for (const [authKey, a] of Object.entries(entry.auths || {})) add(level, resource, authKey, a, param);
    }
  }
  return rows;
}

function auditCard(api) {
  const body = h('tbody', { 'data-testid': 'audit-rows' });
  const out = h('p', { class: 'say info', 'data-testid': 'audit-status' });
  const refreshButton = h('button', { class: 'ghost', 'data-testid': 'audit-refresh', text: 'Refresh' });
  async function refresh() {
    const answer = await api.audit();
    const rows = auditRows(answer.payload);
    fill(body, rows.map((r) => {
      const withdraw = h('button', { class: 'danger small', 'data-testid': 'withdraw', text: 'Withdraw' });
      withdraw.addEventListener('click', () => void busy(withdraw, out, async () => {
        // §7.1: the same (level, resource, auth) with every flag 0 withdraws the grant.
        const query = { r: '0', w: '0', m: '0', d: '0', g: '0', u: '0', j: '0' };
        if (r.param) query[r.param] = r.resource;
        if (r.authKey) query.auth = r.authKey;
        await api.grantV2(query);
        say(out, 'ok', `Withdrawn: ${r.level} ${r.resource || ''} for ${r.authKey ? `auth key ${r.authKey}` : 'every auth key'}.`);
        await refresh();
      }));
      return h('tr', { 'data-testid': 'audit-row', 'data-resource': r.resource, 'data-auth': r.authKey },
        h('td', { text: r.level }), h('td', {}, h('code', { text: r.resource || '(all)' })), h('td', {}, h('code', { text: r.authKey || '(every auth key)' })),
        h('td', { text: r.flags.join(', ') }), h('td', { class: 'num', text: r.ttl === 0 ? 'no expiry' : `${r.ttl} min` }), h('td', {}, withdraw));
    }));
    if (!out.classList.contains('ok')) say(out, 'info', rows.length === 0 ? 'No v2 grants.' : `${rows.length} v2 grant${rows.length === 1 ? '' : 's'}.`);
  }
  refreshButton.addEventListener('click', () => {
    say(out, 'info', '');
    void busy(refreshButton, out, refresh);
  });
  const card = h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h3', { text: 'v2 grants (audit)' }), refreshButton),
    h('table', { class: 'table' }, h('thead', {}, h('tr', {}, ['level', 'resource', 'auth key', 'permissions', 'ttl', ''].map((t) => h('th', { text: t })))), body),
    out);
  return { card, refresh: () => busy(refreshButton, out, refresh) };
}

export function mountAccess({ api, root }) {
  const inspect = inspectCard(api);
  const audit = auditCard(api);
  fill(root,
    h('div', { class: 'view-head' }, h('h2', { text: 'Access' }), h('p', { class: 'sub', text: 'Tokens, decisions and v2 grants of this keyset.' })),
    h('div', { class: 'split' },
      h('div', { class: 'column' }, mintCard(api, (token) => { inspect.input.value = token; }), explainCard(api)),
      h('div', { class: 'column' }, inspect.card, audit.card)));
  return {
    show() {
      void audit.refresh();
    },
    hide() {},
  };
}

