// Parley operator console: sign-in, then one view per tab. The secret key typed at sign-in becomes a
// non-extractable WebCrypto key held in this page's memory; the field is cleared, nothing is stored
// (no cookie, no localStorage), and the key only ever leaves the page as request signatures.
import { ParleyApi } from './api.js';
import { mountAccess } from './access.js';
import { mountChannels } from './channels.js';
import { mountKeyset } from './keyset.js';
import { mountKick } from './kick.js';
import { mountOverview } from './overview.js';
import { errorText, say } from './ui.js';

const $ = (id) => document.getElementById(id);
const TABS = ['overview', 'channels', 'access', 'kick', 'keyset'];

/** What a refused sign-in means, in words an operator can act on. */
function signInError(err) {
  switch (err && err.code) {
    case 'SIGNATURE_MISMATCH':
      return `Sign-in refused: the secret key (or the publish key) does not match this keyset. Parley answered ${err.status} ${err.code}: ${err.message}`;
    case 'INVALID_KEY':
      return `Sign-in refused: Parley has no keyset with this subscribe key (${err.status} ${err.code}).`;
    case 'INVALID_PARAM':
      return `Sign-in refused: ${err.message}`;
    case 'SIGNATURE_EXPIRED':
      return `Sign-in refused: this computer's clock is too far from Parley's (${err.message}).`;
    default:
      return `Sign-in failed: ${errorText(err)}`;
  }
}

function signIn(event) {
  event.preventDefault();
  const subscribeKey = $('subscribe-key').value.trim();
  const publishKey = $('publish-key').value.trim();
  const secretInput = $('secret-key');
  const button = $('sign-in');
  if (!subscribeKey || !publishKey || !secretInput.value) {
    say($('signin-error'), 'error', 'Enter the subscribe key, the publish key and the secret key of the keyset.');
    return;
  }
  button.disabled = true;
  say($('signin-error'), 'info', 'Signing in…');
  ParleyApi.signIn({ subscribeKey, publishKey, secretKey: secretInput.value })
    .then(({ api }) => {
      secretInput.value = '';
      $('signin-error').textContent = '';
      start(api);
    })
    .catch((err) => {
      say($('signin-error'), 'error', signInError(err));
    })
    .finally(() => {
      button.disabled = false;
    });
}

function start(api) {
  $('signin').hidden = true;
  $('app').hidden = false;
  $('who').textContent = api.subscribeKey;
  const setNode = (nodeId) => {
    $('node').textContent = nodeId ? `answered by ${nodeId}` : '';
  };
  const views = {
    overview: mountOverview({ api, root: $('view-overview'), setNode }),
    channels: mountChannels({ api, root: $('view-channels') }),
    access: mountAccess({ api, root: $('view-access') }),
    kick: mountKick({ api, root: $('view-kick') }),
    keyset: mountKeyset({ api, root: $('view-keyset'), onRotated: () => {} }),
  };
  let current = null;
  const show = (name) => {
    if (current === name) return;
    if (current) views[current].hide();
    current = name;
    for (const tab of TABS) {
      $(`view-${tab}`).hidden = tab !== name;
      $(`tab-${tab}`).classList.toggle('active', tab === name);
      $(`tab-${tab}`).setAttribute('aria-selected', String(tab === name));
    }
    views[name].show();
  };
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => show(tab));
  $('sign-out').addEventListener('click', () => {
    // Dropping the page drops the key with it.
    location.reload();
  });
  show('overview');
  document.body.dataset.signedIn = 'true';
}

$('signin-form').addEventListener('submit', signIn);
document.body.dataset.ready = 'true';
