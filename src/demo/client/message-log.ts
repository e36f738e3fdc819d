import type { ChatMessage, SendResult, UserRef } from '../../chat/chat.events.js';
import { create, formatTime } from './dom.js';

const MAX_ITEMS = 200;

/**
 * One room's conversation as the page shows it: messages as bubbles (this user's on the
 * right), each once and in offset order, and lines such as "Bob joined". This user's own
 * messages show at once, at the bottom, and take their place when the server acks them.
 */
export class MessageLog {
  readonly element: HTMLOListElement;
  private readonly ids = new Set<string>();
  private readonly pending = new Map<string, HTMLLIElement>();

  constructor(
    room: string,
    private readonly self: UserRef,
    private readonly retry: (clientMsgId: string, text: string) => void,
  ) {
    this.element = create('ol', { className: 'empty' });
    this.element.dataset['room'] = room;
    this.element.dataset['empty'] = 'No messages yet. Say hello!';
  }

  /** Shows a message unless it is shown already; false when it was. */
  add(message: ChatMessage): boolean {
    if (this.ids.has(message.id)) return false;
    const item = this.render(message.from, message.text, message.ts);
    this.settle(item, message);
    return true;
  }

  /** This user's message on its way. */
  sending(clientMsgId: string, text: string): void {
    let item = this.pending.get(clientMsgId);
    if (item === undefined) {
      item = this.render(this.self, text, Date.now());
      this.pending.set(clientMsgId, item);
      this.element.append(item);
      this.trim();
    }
    item.dataset['sent'] = 'pending';
    this.setState(item, 'sending…');
  }

  sent(clientMsgId: string, result: SendResult): void {
    const item = this.pending.get(clientMsgId);
    if (item === undefined) return;
    this.pending.delete(clientMsgId);
    item.remove();
    // It came with a rejoin while its ack was on the way.
    if (this.ids.has(result.id)) return;
    delete item.dataset['sent'];
    this.setState(item, '');
    this.settle(item, result);
  }

  notSent(clientMsgId: string, text: string): void {
    const item = this.pending.get(clientMsgId);
    if (item === undefined) return;
    item.dataset['sent'] = 'failed';
    const again = create('button', { text: 'Retry', className: 'link retry', testId: 'retry' });
    again.type = 'button';
    again.addEventListener('click', () => this.retry(clientMsgId, text));
    this.setState(item, 'Not sent. ', again);
  }

  /** A line about the room, such as "Bob joined". */
  note(text: string): void {
    this.element.append(create('li', { text, className: 'system', testId: 'system-line' }));
    this.trim();
  }

  private settle(item: HTMLLIElement, { id, offset }: { id: string; offset?: number }): void {
    this.ids.add(id);
    item.dataset['id'] = id;
    if (offset !== undefined) item.dataset['offset'] = String(offset);
    // Before what is still on its way, and before anything with a later offset: an ack can
    // come before a message that was sent earlier from another instance.
    let before: Element | null = null;
    for (let node = this.element.lastElementChild; node; node = node.previousElementSibling) {
      const at = offsetOf(node);
      const later =
        (node instanceof HTMLElement && node.dataset['sent'] !== undefined) ||
        (offset !== undefined && at !== undefined && at > offset);
      if (!later) break;
      before = node;
    }
    this.element.insertBefore(item, before);
    this.trim();
  }

  private render(from: UserRef, text: string, ts: number): HTMLLIElement {
    const own = from.id === this.self.id;
    const meta = create('div', { className: 'meta' });
    if (!own) meta.append(create('strong', { text: from.name, title: from.id }));
    meta.append(create('time', { text: formatTime(ts) }), create('span', { className: 'state' }));
    const bubble = create(
      'p',
      { className: 'bubble' },
      create('span', { text, className: 'text', testId: 'message-text' }),
    );
    const item = create(
      'li',
      { testId: 'message', className: own ? 'message own' : 'message' },
      meta,
      bubble,
    );
    item.dataset['from'] = from.id;
    return item;
  }

  private setState(item: HTMLLIElement, text: string, ...extra: Node[]): void {
    item.querySelector('.state')?.replaceChildren(text === '' ? '' : ` · ${text}`, ...extra);
  }

  private trim(): void {
    while (this.element.children.length > MAX_ITEMS) {
      const oldest = this.element.firstElementChild;
      if (oldest instanceof HTMLElement && oldest.dataset['id'])
        this.ids.delete(oldest.dataset['id']);
      oldest?.remove();
    }
  }
}

function offsetOf(node: Element): number | undefined {
  const offset = node instanceof HTMLElement ? node.dataset['offset'] : undefined;
  return offset === undefined ? undefined : Number(offset);
}
