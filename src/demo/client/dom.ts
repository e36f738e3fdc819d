/** The page's element with this id, checked to be of the expected kind. */
export function element<T extends HTMLElement>(
  id: string,
  kind: { new (): T; readonly name: string },
): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`#${id} is missing or is not a ${kind.name}`);
  return found;
}

export interface ElementProps {
  readonly text?: string;
  readonly className?: string;
  readonly testId?: string;
  readonly title?: string;
}

/** A new element whose text is set with `textContent`: data never goes through `innerHTML`. */
export function create<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  { text, className, testId, title }: ElementProps = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (text !== undefined) created.textContent = text;
  if (className !== undefined) created.className = className;
  if (testId !== undefined) created.dataset['testid'] = testId;
  if (title !== undefined) created.title = title;
  created.append(...children);
  return created;
}

export function formatTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
  });
}
