// Kick: cut one uuid off now, through Parley's signed admin API (POST /v1/admin/{sub}/kick), the same
// call an app server makes.
import { busy, field, fill, h, names, say } from './ui.js';

export function mountKick({ api, root }) {
  const uuid = h('input', { placeholder: 'the uuid to cut off', 'data-testid': 'kick-uuid', autocomplete: 'off' });
  const tokens = h('input', { type: 'checkbox', checked: true, 'data-testid': 'kick-tokens' });
  const authKeys = h('input', { placeholder: 'v2 auth keys whose grants to withdraw (optional)', 'data-testid': 'kick-authkeys', autocomplete: 'off' });
  const out = h('p', { class: 'say info', 'data-testid': 'kick-status' });
  const result = h('dl', { class: 'facts', 'data-testid': 'kick-result' });
  const button = h('button', { type: 'submit', class: 'danger', 'data-testid': 'kick-submit', text: 'Kick' });
  const form = h('form', {
    class: 'stack',
    onsubmit: (e) => {
      e.preventDefault();
      if (!uuid.value.trim()) {
        say(out, 'error', 'Name the uuid to kick.');
        return;
      }
      void busy(button, out, async () => {
        const answer = await api.kick({ uuid: uuid.value.trim(), tokens: tokens.checked, authKeys: names(authKeys.value) });
        say(out, 'ok', `${answer.uuid} is cut off.`);
        fill(result,
          h('dt', { text: 'tokens' }), h('dd', { text: answer.kickedAt ? `refused if issued before ${answer.kickedAt}` : 'not touched' }),
          h('dt', { text: 'v2 grants withdrawn' }), h('dd', { 'data-testid': 'kick-withdrawn', text: answer.withdrawnGrants }),
          h('dt', { text: 'long-polls answered 403' }), h('dd', { 'data-testid': 'kick-ended', text: `${answer.endedLongPolls} on this node (other nodes end theirs on the same event)` }),
          h('dt', { text: 'presence leave sent on' }), h('dd', { 'data-testid': 'kick-left', text: answer.left.length > 0 ? answer.left.join(', ') : '(not present anywhere)' }),
          answer.stillParked > 0 ? h('dt', { text: 'still connected' }) : null,
          answer.stillParked > 0 ? h('dd', { class: 'say error', text: `${answer.stillParked} long-poll(s) on this node use a credential this kick did not touch (a v2 auth key? name it above)` }) : null);
      });
    },
  },
  field('uuid', uuid),
  h('label', { class: 'check' }, tokens, h('span', { text: 'Refuse every token it holds (any token used as this uuid and issued before now)' })),
  field('auth keys', authKeys, 'comma-separated; every grant made for them is withdrawn'),
  h('div', { class: 'buttons' }, button), out, result);

  fill(root,
    h('div', { class: 'view-head' }, h('h2', { text: 'Kick a user' }),
      h('p', { class: 'sub', text: 'Its parked long-polls are answered 403, a presence leave is sent, and it cannot reconnect until your app server grants it again (a new token, or the auth key granted again).' })),
    h('section', { class: 'card narrow' }, form));
  return { show() {}, hide() {} };
}
