// Small DOM helpers. Everything that came from the server is set as text, never parsed as HTML.

/** h('div', {class: 'x', 'data-testid': 'y', onclick: fn}, child, 'text', …) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = String(value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked') el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** A 17-digit timetoken (string) as a local time. */
export function timetokenTime(tt) {
  return time(Number(BigInt(tt) / 10_000n));
}

export function json(value) {
  return JSON.stringify(value);
}

/** `CODE: reason` of an ApiError, or the message of anything else. */
export function errorText(err) {
  if (err && err.code && err.status) return `${err.status} ${err.code}: ${err.message}`;
  return err && err.message ? err.message : String(err);
}

export function badge(text, kind, testid) {
  return h('span', { class: `badge ${kind}`, 'data-testid': testid, text });
}

/** A status line under a form: kind ok | error | info. */
export function say(el, kind, text) {
  el.className = `say ${kind}`;
  el.textContent = text;
}

/** Runs an async action from a button: disables it meanwhile, reports a failure in `out`. */
export async function busy(button, out, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (err) {
    if (out) say(out, 'error', errorText(err));
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** Splits "a, b c" into names. */
export function names(text) {
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label', text: label }), input, hint ? h('span', { class: 'hint', text: hint }) : null);
}
