import { ParleyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { MessageAction, MessageActionStore, OutgoingMessage } from '../store/types.ts';
import { timetokenRange } from './timetoken-range.ts';

/** Longest action type; the SDK refuses longer types itself (add_message_action.ts). */
export const MAX_ACTION_TYPE_LENGTH = 15;
/**
 * Actions one message may carry: history-with-actions reads every action of each message it
 * returns (up to 25), so this bounds that answer.
 */
export const MAX_ACTIONS_PER_MESSAGE = 1000;
/**
 * add() refuses an action timetoken already used on the message. One node's generator never repeats,
 * but two nodes can draw the same value in the same millisecond; a fresh draw settles it.
 */
const ADD_ATTEMPTS = 3;

export interface MessageActionServiceDeps {
  store: MessageActionStore;
  /** The publish pipeline: every change is announced as an `e:3` event that is not stored. */
  publish: (message: OutgoingMessage) => Promise<bigint>;
  /** Draws action timetokens: the node's generator, so they never repeat on this node. */
  timetokens: { next(): bigint };
  log: Logger;
  /** Largest action value, bytes (limits.maxMessageBytes). */
  maxValueBytes: number;
}

/** An action to add: everything but its timetoken, which add() assigns. */
export type NewMessageAction = Omit<MessageAction, 'actionTimetoken'>;

/** One page of a channel's actions, oldest first. */
export interface MessageActionPage {
  actions: MessageAction[];
  /** Where the next (older) page starts (as an exclusive `start`); null when this page is the last. */
  next: bigint | null;
}

/**
 * Message actions (wire-protocol.md §11): reactions, receipts and the like on stored messages.
 * Transport-agnostic: routes authorize first, then call here. Every change is stored, then announced
 * on the message's channel as an `e:3` event (§3.5). An action does not need its message to exist
 * (PubNub does not check either).
 */
export class MessageActionService {
  constructor(private readonly deps: MessageActionServiceDeps) {}

  /**
   * Validates and stores the action under a fresh action timetoken, announces it and resolves with it.
   * CONFLICT when the same uuid already added the same type and value to the message; INVALID_PARAM
   * when the message already carries MAX_ACTIONS_PER_MESSAGE actions.
   */
  async add(input: NewMessageAction): Promise<MessageAction> {
    const { subscribeKey, channel, messageTimetoken, type, value, uuid } = input;
    // The uuid is part of the action: who reacted.
    if (uuid === '') throw new ParleyError('INVALID_PARAM', 'uuid is required');
    if (type.length === 0 || type.length > MAX_ACTION_TYPE_LENGTH) {
      throw new ParleyError('INVALID_PARAM', `action.type must be a string of 1-${MAX_ACTION_TYPE_LENGTH} characters`);
    }
    if (value.length === 0) throw new ParleyError('INVALID_PARAM', 'action.value must be a non-empty string');
    if (Buffer.byteLength(value) > this.deps.maxValueBytes) throw new ParleyError('PAYLOAD_TOO_LARGE', `action.value is over ${this.deps.maxValueBytes} bytes`);
    const base = { subscribeKey, channel, messageTimetoken, type, value, uuid };
    for (let attempt = 0; attempt < ADD_ATTEMPTS; attempt++) {
      const action: MessageAction = { ...base, actionTimetoken: this.deps.timetokens.next() };
      // The cap is checked by the store in the same atomic step as the add (concurrent adds cannot pass it).
      const result = await this.deps.store.add(action, MAX_ACTIONS_PER_MESSAGE);
      if (result === 'added') {
        await this.announce(action, 'added');
        return action;
      }
      if (result === 'full') {
        throw new ParleyError('INVALID_PARAM', `this message already has ${MAX_ACTIONS_PER_MESSAGE} actions, the most one message may carry`);
      }
      const existing = await this.deps.store.forMessages(subscribeKey, channel, [messageTimetoken]);
      if (existing.some((a) => a.type === type && a.value === value && a.uuid === uuid)) {
        throw new ParleyError('CONFLICT', 'Action Already Added');
      }
    }
    throw new ParleyError('INTERNAL', 'no free action timetoken after several attempts');
  }

  /**
   * The newest `limit` (at least 1) actions of the channel whose action timetoken lies in the range
   * (timetoken-range.ts: `start` exclusive, `end` inclusive), oldest first, with where the next older
   * page starts whenever this one is not the last.
   */
  async list(subscribeKey: string, channel: string, start: bigint | undefined, end: bigint | undefined, limit: number): Promise<MessageActionPage> {
    if (!Number.isInteger(limit) || limit < 1) throw new ParleyError('INVALID_PARAM', `limit must be a whole number of at least 1 (got ${limit})`);
    // One row beyond the page tells whether older actions remain.
    const rows = await this.deps.store.list(subscribeKey, channel, timetokenRange(start, end), limit + 1);
    if (rows.length <= limit) return { actions: rows, next: null };
    const actions = rows.slice(1);
    return { actions, next: actions[0].actionTimetoken };
  }

  /**
   * Removes one action and announces the removal; resolves false, announcing nothing, when it was not
   * there (it is gone either way).
   */
  async remove(subscribeKey: string, channel: string, messageTimetoken: bigint, actionTimetoken: bigint): Promise<boolean> {
    // Read first: the removal event carries the action's type, value and uuid.
    const existing = (await this.deps.store.forMessages(subscribeKey, channel, [messageTimetoken])).find((a) => a.actionTimetoken === actionTimetoken);
    if (existing === undefined || !(await this.deps.store.remove(subscribeKey, channel, messageTimetoken, actionTimetoken))) return false;
    await this.announce(existing, 'removed');
    return true;
  }

  /** Every action on the given messages of one channel, in the order they were added (history with actions). */
  forMessages(subscribeKey: string, channel: string, messageTimetokens: readonly bigint[]): Promise<MessageAction[]> {
    return this.deps.store.forMessages(subscribeKey, channel, messageTimetokens);
  }

  /**
   * Fans the change out as an `e:3` event (§3.5). `i` is the action's own uuid, for "removed" too: the
   * SDK turns `i` into `data.uuid`, and clients match a removal to the action they hold by it. The action
   * is already stored, so a failed fan-out is logged rather than reported: the change happened.
   */
  private async announce(a: MessageAction, event: 'added' | 'removed'): Promise<void> {
    const data = { type: a.type, value: a.value, messageTimetoken: String(a.messageTimetoken), actionTimetoken: String(a.actionTimetoken) };
    try {
      await this.deps.publish({
        subscribeKey: a.subscribeKey,
        channel: a.channel,
        publisher: a.uuid,
        payload: JSON.stringify({ source: 'actions', version: '1.0', event, data }),
        meta: null,
        customMessageType: null,
        type: 3,
        store: false,
        expiresAtMs: null,
      });
    } catch (err) {
      this.deps.log.error({ err, channel: a.channel, event }, 'message action event not delivered');
    }
  }
}
