import { compareActions } from '../shared/action-order.ts';
import { inclusiveBounds } from '../shared/message-query.ts';
import type { MessageAction, MessageActionStore, TimetokenRange } from '../types.ts';

/** Actions of each channel in one array kept in listing order (inserts are nearly always appends). */
export class MemoryMessageActionStore implements MessageActionStore {
  private readonly channels = new Map<string, MessageAction[]>();

  async add(action: MessageAction, maxPerMessage = Infinity): Promise<'added' | 'taken' | 'full'> {
    const key = channelKey(action.subscribeKey, action.channel);
    let actions = this.channels.get(key);
    if (actions === undefined) {
      actions = [];
      this.channels.set(key, actions);
    }
    const clash = actions.some(
      (a) =>
        a.messageTimetoken === action.messageTimetoken &&
        (a.actionTimetoken === action.actionTimetoken || (a.type === action.type && a.value === action.value && a.uuid === action.uuid)),
    );
    if (clash) return 'taken';
    let onMessage = 0;
    for (const a of actions) if (a.messageTimetoken === action.messageTimetoken) onMessage++;
    if (onMessage >= maxPerMessage) return 'full';
    let i = actions.length;
    while (i > 0 && compareActions(actions[i - 1], action) > 0) i--;
    actions.splice(i, 0, { ...action });
    return 'added';
  }

  async remove(subscribeKey: string, channel: string, messageTimetoken: bigint, actionTimetoken: bigint): Promise<boolean> {
    const key = channelKey(subscribeKey, channel);
    const actions = this.channels.get(key);
    const i = actions?.findIndex((a) => a.messageTimetoken === messageTimetoken && a.actionTimetoken === actionTimetoken) ?? -1;
    if (actions === undefined || i < 0) return false;
    actions.splice(i, 1);
    if (actions.length === 0) this.channels.delete(key);
    return true;
  }

  async list(subscribeKey: string, channel: string, range: TimetokenRange, limit: number): Promise<MessageAction[]> {
    const bounds = inclusiveBounds(range);
    const n = Math.floor(limit);
    if (bounds === null || n <= 0) return [];
    const inRange = (this.channels.get(channelKey(subscribeKey, channel)) ?? []).filter(
      (a) => a.actionTimetoken >= bounds.lo && a.actionTimetoken <= bounds.hi,
    );
    return inRange.slice(Math.max(0, inRange.length - n)).map((a) => ({ ...a }));
  }

  async forMessages(subscribeKey: string, channel: string, messageTimetokens: readonly bigint[]): Promise<MessageAction[]> {
    const wanted = new Set(messageTimetokens);
    return (this.channels.get(channelKey(subscribeKey, channel)) ?? []).filter((a) => wanted.has(a.messageTimetoken)).map((a) => ({ ...a }));
  }
}

function channelKey(subscribeKey: string, channel: string): string {
  return JSON.stringify([subscribeKey, channel]);
}
