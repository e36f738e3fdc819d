import type { PresenceState } from '../../chat/chat.events.js';

/** The statuses the page offers, as sent in `presence:update` (`{ status }`) and their labels. */
export const STATUS_LABELS = {
  available: 'available',
  away: 'away',
  busy: 'in a call',
} as const;

export type Status = keyof typeof STATUS_LABELS;

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && Object.hasOwn(STATUS_LABELS, value);
}

/** How to show another client's state: a known status by its label, any other text as it is. */
export function describeStatus(
  state: PresenceState | undefined,
): { readonly status: Status | 'other'; readonly label: string } | undefined {
  const status = state?.['status'];
  if (isStatus(status)) return { status, label: STATUS_LABELS[status] };
  if (typeof status === 'string' && status !== '')
    return { status: 'other', label: status.slice(0, 40) };
  return undefined;
}
