import type { Notification } from '../../notifications/notifications.events.js';

/** Longer summaries are cut: the list shows one line or two per notification. */
const MAX_SUMMARY = 140;
/** A field that, when present, says what the notification is about better than the rest. */
const MESSAGE_FIELDS = ['message', 'text', 'title', 'body'];
const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
];
// English like the rest of the page, so a line never mixes two languages.
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/**
 * A notification as a sentence: "invoice.paid — invoice inv_42". The data's message field
 * if it has one, else its plain fields as words ("orderId" reads "order").
 */
export function describeNotification({ type, data }: Notification): string {
  const summary = summarize(data);
  return summary === '' ? type : `${type} — ${summary}`;
}

/** "just now", "5 minutes ago", "yesterday". A time ahead of this clock counts as now. */
export function timeAgo(ts: number, now = Date.now()): string {
  const seconds = Math.min(0, Math.trunc((ts - now) / 1000));
  for (const [unit, size] of UNITS)
    if (-seconds >= size) return relative.format(Math.trunc(seconds / size), unit);
  return 'just now';
}

function summarize(data: unknown): string {
  if (isScalar(data)) return clip(String(data));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return '';
  const fields = data as Record<string, unknown>;
  const message = MESSAGE_FIELDS.map((field) => fields[field]).find(
    (value) => typeof value === 'string' && value.trim() !== '',
  );
  if (typeof message === 'string') return clip(message);
  const parts = Object.entries(fields)
    .filter((entry): entry is [string, string | number | boolean] => isScalar(entry[1]))
    .map(([key, value]) => `${words(key)} ${String(value)}`.trim());
  return clip(parts.join(', '));
}

/** `invoiceId` → "invoice", `due_date` → "due date", `id` → "". */
function words(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .replace(/(^|\s)id$/, '')
    .trim();
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_SUMMARY ? line : `${line.slice(0, MAX_SUMMARY - 1)}…`;
}
