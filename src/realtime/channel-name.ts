/** Channel and group name rules shared by every route (wire-protocol.md §1.1, §3.8). */

export const PRESENCE_SUFFIX = '-pnpres';

export function isPresenceName(name: string): boolean {
  return name.endsWith(PRESENCE_SUFFIX);
}

export function stripPresence(name: string): string {
  return isPresenceName(name) ? name.slice(0, -PRESENCE_SUFFIX.length) : name;
}

/** A wildcard subscription `a.*` or `a.b.*`: at most two dots before `.*`, `*` nowhere else. */
export function wildcardPrefix(name: string): string | undefined {
  if (!name.endsWith('.*')) return undefined;
  const prefix = name.slice(0, -1); // keeps the trailing dot
  if (prefix.includes('*') || prefix.length < 2) return undefined;
  const dots = prefix.split('.').length - 1;
  return dots <= 2 ? prefix : undefined;
}

/** The wildcard prefixes (`a.`, `a.b.`) a concrete channel name can be matched by. */
export function wildcardPrefixesOf(channel: string): string[] {
  const out: string[] = [];
  let i = channel.indexOf('.');
  while (i > 0 && out.length < 2) {
    out.push(channel.slice(0, i + 1));
    i = channel.indexOf('.', i + 1);
  }
  return out;
}

/**
 * Why a name is unacceptable, or undefined when it is fine. `allowWildcard` is for subscribe and grants.
 * `.` and `..` are refused: fetch's URL parser collapses them as dot-segments (§1.1).
 */
export function channelNameProblem(name: string, maxLength: number, allowWildcard = false): string | undefined {
  if (name.length === 0) return 'channel name is empty';
  if (name.length > maxLength) return `channel name is longer than ${maxLength} characters`;
  if (name === '.' || name === '..') return 'channel name may not be "." or ".."';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'channel name contains a control character';
  if (name.includes('*')) {
    if (!allowWildcard || wildcardPrefix(name) === undefined) return 'channel name may not contain "*" here';
  }
  return undefined;
}
