import type { MessageAction } from '../types.ts';

/** The listing order of MessageActionStore in every backend: action timetoken, then message timetoken. */
export function compareActions(a: MessageAction, b: MessageAction): number {
  if (a.actionTimetoken !== b.actionTimetoken) return a.actionTimetoken < b.actionTimetoken ? -1 : 1;
  if (a.messageTimetoken === b.messageTimetoken) return 0;
  return a.messageTimetoken < b.messageTimetoken ? -1 : 1;
}
