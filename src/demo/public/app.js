// Secure chat demo page. Plain browser JavaScript and the official PubNub SDK's browser build,
// pointed at Parley. The page never sees the secret key: access comes from the app server.
(async function main() {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const mode = params.get('mode') === 'v2' ? 'v2' : 'v3';
  const cfg = await (await fetch('api/config')).json();

  const randomId = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');
  const userId = 'visitor-' + randomId(4);
  const authKey = mode === 'v2' ? randomId(16) : undefined;
  const ackChannel = cfg.ackPrefix + randomId(8);

  const origin = cfg.parleyOrigin && cfg.parleyOrigin !== location.host ? cfg.parleyOrigin : location.host;
  const pubnub = new PubNub({
    publishKey: cfg.publishKey,
    subscribeKey: cfg.subscribeKey,
    userId,
    authKey,
    origin,
    ssl: location.protocol === 'https:',
    logVerbosity: false,
  });

  // v2 login signalling runs on its own client, so a denial that stops the chat's subscribe loop
  // (grant withdrawn or expired) never cuts the page off from the app server's answers.
  const control = mode === 'v2'
    ? new PubNub({ publishKey: cfg.publishKey, subscribeKey: cfg.subscribeKey, userId, authKey, origin, ssl: location.protocol === 'https:', logVerbosity: false })
    : null;

  let expiresAt = 0;
  let token = null;
  let ticker = null;
  let receiving = false;

  $('user-id').textContent = userId;
  $('channel-name').textContent = cfg.channel;
  document.querySelectorAll('#mode-switch a').forEach((a) => a.classList.toggle('active', a.dataset.mode === mode));

  const displayName = () => $('name').value.trim() || userId;
  $('name').addEventListener('input', () => {
    $('avatar').textContent = (displayName()[0] || '?').toUpperCase();
  });

  function logDenied(what, err) {
    const data = err && err.status && err.status.errorData;
    const reason = data && (data.reason || data.message);
    console.warn(`access denied: ${what}` + (reason ? ` (${reason})` : ''));
  }

  function setStatus(kind, text) {
    const el = $('status');
    el.className = 'status ' + kind;
    el.textContent = text;
  }

  function renderAccess() {
    const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
    if (expiresAt && left > 0) {
      setStatus('granted', `Access granted · ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`);
      $('countdown-bar').style.width = `${(100 * left) / (cfg.grantTtlMinutes * 60)}%`;
      $('login').disabled = true;
      $('logout').disabled = false;
    } else {
      if (expiresAt) setStatus('expired', 'Access expired · log in again');
      else setStatus('denied', 'No access · messages you send are denied');
      $('countdown-bar').style.width = '0%';
      $('login').disabled = false;
      $('logout').disabled = !expiresAt;
      if (ticker && !(expiresAt && left > 0)) {
        clearInterval(ticker);
        ticker = null;
      }
    }
  }

  function time(tt) {
    return new Date(Number(BigInt(tt) / 10000n)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function addMessage(event) {
    const m = event.message || {};
    const li = document.createElement('li');
    li.className = 'msg' + (event.publisher === userId ? ' mine' : '');
    const head = document.createElement('div');
    head.className = 'meta';
    const who = document.createElement('strong');
    who.textContent = typeof m.name === 'string' ? m.name : event.publisher;
    const when = document.createElement('time');
    when.textContent = time(event.timetoken);
    head.append(who, when);
    const body = document.createElement('div');
    body.className = 'text';
    body.textContent = typeof m.text === 'string' ? m.text : JSON.stringify(m);
    li.append(head, body);
    $('messages').append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  function addDenied(text, reason) {
    const li = document.createElement('li');
    li.className = 'msg denied';
    const head = document.createElement('div');
    head.className = 'meta';
    const who = document.createElement('strong');
    who.textContent = displayName();
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'denied · not delivered';
    head.append(who, badge);
    const body = document.createElement('div');
    body.className = 'text';
    body.textContent = text;
    li.title = reason || 'Access denied';
    li.append(head, body);
    $('denied').append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  function setReceiving(on, note) {
    receiving = on;
    $('receive-state').textContent = note || (on ? 'Receiving live' : 'Not receiving: log in to read the channel');
    $('receive-state').classList.toggle('live', on);
  }

  // Typing indicator: signals on the chat channel (they need write, like messages).
  const typists = new Map();
  function renderTyping() {
    const now = Date.now();
    for (const [id, t] of typists) if (t.until < now) typists.delete(id);
    const names = [...typists.values()].map((t) => t.name);
    $('typing').textContent = names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }
  setInterval(renderTyping, 500);
  let lastTypingSignal = 0;
  $('message-input').addEventListener('input', () => {
    if (!(expiresAt > Date.now()) || Date.now() - lastTypingSignal < 2000) return;
    lastTypingSignal = Date.now();
    pubnub.signal({ channel: cfg.channel, message: { t: 1, n: displayName().slice(0, 24) } }).catch((err) => {
      if (err && err.status && err.status.category === 'PNAccessDeniedCategory') logDenied('typing signal on ' + cfg.channel, err);
    });
  });

  pubnub.addListener({
    message(event) {
      if (event.channel === cfg.channel) {
        typists.delete(event.publisher);
        renderTyping();
        addMessage(event);
      }
    },
    signal(event) {
      if (event.channel !== cfg.channel || event.publisher === userId || !event.message || !event.message.t) return;
      typists.set(event.publisher, { name: String(event.message.n || event.publisher), until: Date.now() + 3000 });
      renderTyping();
    },
    status(s) {
      if (s.category === 'PNAccessDeniedCategory' || s.error === 'PNAccessDeniedCategory') {
        logDenied('subscribe to ' + cfg.channel, { status: s });
        setReceiving(false, 'Not receiving: access denied');
      } else if (s.category === 'PNConnectedCategory' && receiving) {
        setReceiving(true);
      }
    },
  });

  function startReceiving() {
    pubnub.unsubscribe({ channels: [cfg.channel] });
    pubnub.subscribe({ channels: [cfg.channel] });
    setReceiving(true);
  }

  function granted(until) {
    expiresAt = until;
    renderAccess();
    if (!ticker) ticker = setInterval(renderAccess, 250);
    startReceiving();
  }

  let pendingAck = null;
  function onAck(msg) {
    if (!pendingAck || !msg) return;
    const resolve = pendingAck;
    pendingAck = null;
    resolve(msg);
  }

  async function login() {
    $('login').disabled = true;
    try {
      if (mode === 'v3') {
        const r = await fetch('api/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ userId }) });
        if (!r.ok) throw new Error((await r.json()).error || r.statusText);
        const grant = await r.json();
        token = grant.token;
        pubnub.setToken(token);
        granted(grant.expiresAt);
      } else {
        const ack = new Promise((resolve) => (pendingAck = resolve));
        await control.publish({ channel: cfg.loginChannel, message: { action: 'login', authKey, ackChannel, name: displayName() } });
        const msg = await Promise.race([ack, new Promise((_, rej) => setTimeout(() => rej(new Error('no answer from the app server')), 10000))]);
        granted(msg.expiresAt);
      }
    } catch (err) {
      console.warn('login failed: ' + err.message);
      setStatus('denied', 'Login failed: ' + err.message);
      $('login').disabled = false;
    }
  }

  async function logout() {
    $('logout').disabled = true;
    try {
      if (mode === 'v3' && token) {
        await fetch('api/revoke', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
      } else if (mode === 'v2') {
        const ack = new Promise((resolve) => (pendingAck = resolve));
        await control.publish({ channel: cfg.loginChannel, message: { action: 'logout', authKey, ackChannel } });
        await Promise.race([ack, new Promise((r) => setTimeout(r, 10000))]);
      }
    } finally {
      expiresAt = 0;
      pubnub.unsubscribe({ channels: [cfg.channel] });
      setReceiving(false);
      renderAccess();
    }
  }

  async function send(text) {
    try {
      await pubnub.publish({ channel: cfg.channel, message: { text, name: displayName() } });
    } catch (err) {
      const status = err && err.status;
      if (status && status.category === 'PNAccessDeniedCategory') {
        logDenied('publish to ' + cfg.channel, err);
        addDenied(text, status.errorData && status.errorData.reason);
      } else {
        console.warn('send failed: ' + (err && err.message));
        addDenied(text, 'send failed');
      }
    }
  }

  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('message-input').value.trim();
    if (!text) return;
    $('message-input').value = '';
    void send(text);
  });
  $('login').addEventListener('click', () => void login());
  $('logout').addEventListener('click', () => void logout());

  // v2: the ack channel is readable by anyone (acks carry no secret); listen before the first login.
  if (control) {
    control.addListener({ message: (event) => event.channel === ackChannel && onAck(event.message) });
    control.subscribe({ channels: [ackChannel] });
  }
  renderAccess();
  document.body.dataset.ready = 'true';
})();
