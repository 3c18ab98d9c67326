// Building DOM nodes without HTML strings: text always goes in as text, so nothing the server
// sends (a plugin's failure reason, a property's value) can turn into markup.

export type Child = Node | string | number | null | undefined | false;

/** Attributes, and `on<event>` listeners. `false` and `undefined` leave an attribute out. */
export type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(key, '');
    else if (value !== false && value !== undefined) el.setAttribute(key, String(value));
  }
  el.append(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
  return el;
}

/** A message line: `error` ones are announced to screen readers at once. */
export function message(kind: 'error' | 'info' | 'success', text: string): HTMLParagraphElement {
  return h('p', { class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Replaces what a message slot shows (empty text: nothing). */
export function setMessage(slot: HTMLElement, kind: 'error' | 'info' | 'success', text: string): void {
  slot.replaceChildren(...(text ? [message(kind, text)] : []));
}

/** A definition list from label/value pairs. */
export function facts(rows: [string, Child][]): HTMLDListElement {
  return h('dl', { class: 'facts' }, ...rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

/** A table with a header row; each row is a list of cells. */
export function table(headers: string[], rows: Child[][], props: Props = {}): HTMLTableElement {
  return h('table', props,
    h('thead', {}, h('tr', {}, ...headers.map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))));
}
