// Channels: who is where (signed here-now), one channel's presence with state, recent history, a live
// tail (a signed subscribe long-poll loop from this page) and publishing as any uuid.
import { busy, errorText, field, fill, h, json, say, time, timetokenTime } from './ui.js';

const TAIL_LIMIT = 200;
const REFRESH_MS = 3000;

/** Global here-now's payload as [{channel, occupancy, uuids}], busiest first. */
function occupiedChannels(answer) {
  const channels = (answer && answer.payload && answer.payload.channels) || {};
  return Object.entries(channels)
    .map(([channel, c]) => ({ channel, occupancy: c.occupancy, uuids: (c.uuids || []).map((u) => (typeof u === 'string' ? u : u.uuid)) }))
    .sort((a, b) => b.occupancy - a.occupancy || (a.channel < b.channel ? -1 : 1));
}

export function mountChannels({ api, root }) {
  const list = h('tbody', { 'data-testid': 'channel-list' });
  const listStatus = h('p', { class: 'say info', text: 'Loading…' });
  const openInput = h('input', { placeholder: 'any channel name', 'data-testid': 'channel-open-input', autocomplete: 'off' });
  const detail = h('div', { class: 'channel-detail', 'data-testid': 'channel-detail' }, h('p', { class: 'muted', text: 'Pick a channel to see who is present, its history and a live tail.' }));
  fill(
    root,
    h('div', { class: 'view-head' }, h('h2', { text: 'Channels' }), h('p', { class: 'sub', text: 'Occupied channels across every node (global here-now), refreshed every 3 s.' })),
    h('div', { class: 'split' },
      h('section', { class: 'card' },
        h('table', { class: 'table' }, h('thead', {}, h('tr', {}, h('th', { text: 'channel' }), h('th', { text: 'occupancy' }), h('th', { text: 'present' }))), list),
        listStatus,
        h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); if (openInput.value.trim()) select(openInput.value.trim()); } },
          openInput, h('button', { type: 'submit', class: 'ghost', 'data-testid': 'channel-open', text: 'Open' }))),
      detail),
  );

  let active = false;
  let timer = null;
  let selected = null;
  let tail = null;

  async function refresh() {
    if (!active) return;
    try {
      const channels = occupiedChannels(await api.hereNowGlobal());
      fill(list, channels.map((c) =>
        h('tr', { class: c.channel === selected ? 'selected' : '', 'data-testid': 'channel-row', 'data-channel': c.channel },
          h('td', {}, h('button', { class: 'link', text: c.channel, onclick: () => select(c.channel) })),
          h('td', { class: 'num', 'data-testid': 'channel-occupancy', text: c.occupancy }),
          h('td', { class: 'muted', text: c.uuids.slice(0, 5).join(', ') + (c.uuids.length > 5 ? ` +${c.uuids.length - 5}` : '') }))));
      say(listStatus, 'info', channels.length === 0 ? 'No channel has anyone present.' : `${channels.length} occupied · ${time(Date.now())}`);
    } catch (err) {
      say(listStatus, 'error', errorText(err));
    }
    if (active) timer = setTimeout(refresh, REFRESH_MS);
  }

  function stopTail() {
    if (tail) tail.controller.abort();
    tail = null;
  }

  function select(channel) {
    stopTail();
    selected = channel;
    for (const row of list.querySelectorAll('tr')) row.classList.toggle('selected', row.dataset.channel === channel);
    const presence = h('ul', { class: 'rows', 'data-testid': 'presence-list' });
    const presenceStatus = h('p', { class: 'say info' });
    const history = h('ol', { class: 'rows messages', 'data-testid': 'history-list' });
    const historyStatus = h('p', { class: 'say info' });
    const tailList = h('ol', { class: 'rows messages', 'data-testid': 'tail-list' });
    const tailStatus = h('p', { class: 'say info', 'data-testid': 'tail-status', text: 'Not tailing.' });
    const tailButton = h('button', { class: 'primary', 'data-testid': 'tail-toggle', text: 'Start tail' });
    const asUuid = h('input', { value: 'parley-console', 'data-testid': 'publish-uuid', autocomplete: 'off' });
    const message = h('textarea', { rows: 3, 'data-testid': 'publish-message' }, '{"text": "hello from the console"}');
    const publishStatus = h('p', { class: 'say info', 'data-testid': 'publish-status' });
    const publishButton = h('button', { type: 'submit', class: 'primary', 'data-testid': 'publish-send', text: 'Publish' });

    async function loadPresence() {
      try {
        const answer = await api.hereNow(channel);
        const uuids = answer.uuids || [];
        fill(presence, uuids.map((u) => (typeof u === 'string' ? { uuid: u } : u)).map((u) =>
          h('li', { 'data-testid': 'presence-uuid', 'data-uuid': u.uuid }, h('strong', { text: u.uuid }), u.state ? h('code', { text: json(u.state) }) : h('span', { class: 'muted', text: 'no state' }))));
        say(presenceStatus, 'info', `${answer.occupancy ?? uuids.length} present · ${time(Date.now())}`);
      } catch (err) {
        say(presenceStatus, 'error', errorText(err));
      }
    }

    async function loadHistory() {
      try {
        const answer = await api.history(channel);
        const messages = (answer.channels && answer.channels[channel]) || [];
        fill(history, messages.slice().reverse().map((m) =>
          h('li', {}, h('span', { class: 'when', text: timetokenTime(m.timetoken) }), h('strong', { text: m.uuid ?? '' }), h('code', { text: json(m.message) }))));
        say(historyStatus, 'info', messages.length === 0 ? 'No stored messages.' : `Last ${messages.length} stored, newest first.`);
      } catch (err) {
        say(historyStatus, 'error', errorText(err));
      }
    }

    async function runTail(state) {
      let timetoken = '0';
      let region;
      let failures = 0;
      while (!state.controller.signal.aborted) {
        try {
          const answer = await api.subscribe(channel, timetoken, region, state.controller.signal);
          failures = 0;
          timetoken = answer.t.t;
          region = answer.t.r;
          say(tailStatus, 'ok', `Tailing ${channel} live.`);
          for (const m of answer.m) {
            tailList.prepend(h('li', { 'data-testid': 'tail-item' }, h('span', { class: 'when', text: timetokenTime(m.p.t) }), h('strong', { text: m.i ?? '(server)' }), h('code', { text: json(m.d) })));
            while (tailList.children.length > TAIL_LIMIT) tailList.lastChild.remove();
          }
        } catch (err) {
          if (state.controller.signal.aborted) break;
          failures++;
          say(tailStatus, 'error', `${errorText(err)} (retrying)`);
          // A refusal will not go away by itself: stop after a few instead of polling forever.
          if (failures >= 5 || (err && err.status === 403)) {
            say(tailStatus, 'error', `Tail stopped: ${errorText(err)}`);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 1000 * failures));
        }
      }
      if (tail === state) {
        tail = null;
        tailButton.textContent = 'Start tail';
      }
    }

    tailButton.addEventListener('click', () => {
      if (tail) {
        stopTail();
        tailButton.textContent = 'Start tail';
        say(tailStatus, 'info', 'Not tailing.');
        return;
      }
      tail = { controller: new AbortController() };
      tailButton.textContent = 'Stop tail';
      say(tailStatus, 'info', 'Connecting…');
      void runTail(tail);
    });

    const publishForm = h('form', {
      class: 'stack',
      onsubmit: (e) => {
        e.preventDefault();
        void busy(publishButton, publishStatus, async () => {
          let payload;
          try {
            payload = JSON.parse(message.value);
          } catch {
            say(publishStatus, 'error', 'The message must be JSON (a string needs quotes).');
            return;
          }
          const uuid = asUuid.value.trim() || 'parley-console';
          const answer = await api.publish(channel, payload, uuid);
          say(publishStatus, 'ok', `Published as ${uuid} at timetoken ${answer[2]}.`);
          void loadHistory();
        });
      },
    }, field('publish as uuid', asUuid), field('message (JSON)', message), h('div', { class: 'buttons' }, publishButton), publishStatus);

    fill(detail,
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h3', { 'data-testid': 'channel-title', text: channel }),
          h('button', { class: 'ghost', text: 'Reload', onclick: () => { void loadPresence(); void loadHistory(); } })),
        h('h4', { text: 'Present' }), presence, presenceStatus),
      h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h4', { text: 'Live tail' }), tailButton), tailStatus, tailList),
      h('section', { class: 'card' }, h('h4', { text: 'Publish' }), publishForm),
      h('section', { class: 'card' }, h('h4', { text: 'Recent history' }), history, historyStatus));
    void loadPresence();
    void loadHistory();
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
    stop() {
      stopTail();
    },
  };
}
