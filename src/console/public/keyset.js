// Keyset: its keys and the secret rotation. The new secret is drawn in this page, sent once in the
// signed rotation request (the signature, made with the current secret, covers it) and then used to
// sign; the old one stays accepted for the overlap window.
import { busy, field, fill, h, say } from './ui.js';
import { newSecret } from './sign.js';

export function mountKeyset({ api, root, onRotated }) {
  const info = h('dl', { class: 'facts', 'data-testid': 'keyset-info' });
  const secret = h('input', { class: 'mono', 'data-testid': 'rotate-secret', autocomplete: 'off', spellcheck: 'false' });
  const overlap = h('input', { type: 'number', min: 0, max: 43200, value: 60, 'data-testid': 'rotate-overlap' });
  const stored = h('input', { type: 'checkbox', 'data-testid': 'rotate-confirm' });
  const out = h('p', { class: 'say info', 'data-testid': 'rotate-status' });
  const generate = h('button', { type: 'button', class: 'ghost', 'data-testid': 'rotate-generate', text: 'Generate' });
  const button = h('button', { type: 'submit', class: 'danger', 'data-testid': 'rotate-submit', text: 'Rotate secret key' });
  generate.addEventListener('click', () => {
    secret.value = newSecret();
  });

  async function load() {
    const stats = await api.stats();
    const k = stats.keyset;
    fill(info,
      h('dt', { text: 'subscribe key' }), h('dd', {}, h('code', { text: k.subscribeKey })),
      h('dt', { text: 'publish key' }), h('dd', {}, h('code', { text: k.publishKey })),
      h('dt', { text: 'previous secret key' }), h('dd', { 'data-testid': 'keyset-previous', text: k.previousSecretValidUntil ? `accepted until ${k.previousSecretValidUntil}` : 'none in force' }));
  }

  const form = h('form', {
    class: 'stack',
    onsubmit: (e) => {
      e.preventDefault();
      if (!stored.checked) {
        say(out, 'error', 'Store the new secret key first (your configuration or secret store), then tick the box.');
        return;
      }
      void busy(button, out, async () => {
        const newKey = secret.value.trim();
        const answer = await api.rotateSecret({ secretKey: newKey, overlapMinutes: Number(overlap.value) });
        await api.useSecret(newKey);
        secret.value = '';
        stored.checked = false;
        say(out, 'ok', `Rotated. This console now signs with the new key; the old one is accepted until ${answer.previousSecretValidUntil}. Put the new key in the configuration of every app server (and keysets[].secretKey, with previousSecretKey until then).`);
        onRotated(answer);
        await load();
      });
    },
  },
  h('div', { class: 'row' }, field('new secret key', secret, '32 to 256 printable characters; Generate draws 32 random bytes'), h('div', { class: 'buttons end' }, generate)),
  field('overlap (minutes)', overlap, 'how long the old key keeps working (0: it stops now)'),
  h('label', { class: 'check' }, stored, h('span', { text: 'I have stored the new secret key' })),
  h('div', { class: 'buttons' }, button), out);

  fill(root,
    h('div', { class: 'view-head' }, h('h2', { text: 'Keyset' })),
    h('section', { class: 'card narrow' }, h('h3', { text: 'Keys' }), info),
    h('section', { class: 'card narrow' }, h('h3', { text: 'Rotate the secret key' }),
      h('p', { class: 'muted', text: 'Signatures, tokens and file URLs made with either key are valid during the overlap; new tokens are signed with the new key; afterwards the old key is refused on every node.' }),
      form));
  return {
    show() {
      void load().catch((err) => say(out, 'error', err.message));
    },
    hide() {},
  };
}
