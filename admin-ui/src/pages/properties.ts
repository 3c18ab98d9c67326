// System properties: every property this node knows, filtered as you type, each edited in
// place with an input that fits its type (checkbox, number, list or text) and checked by the
// API, whose refusal (a bound, a type) is shown beside the field. Values live in the shared
// database, so a change reaches every node within seconds.
import { describe, properties, setProperty, unsetProperty } from '../api.ts';
import type { Property, PropertyValue } from '../api-types.ts';
import { h, setMessage } from '../dom.ts';
import type { Route } from '../router.ts';

interface Editor {
  field: HTMLElement;
  /** The value to send, or the reason there is none. */
  read(): { value: PropertyValue } | { problem: string };
}

function editor(p: Property): Editor {
  const label = { id: `property-${p.name}`, 'aria-label': p.name, name: 'value' };
  if (p.defined && p.type === 'boolean') {
    const box = h('input', { ...label, type: 'checkbox', checked: p.value === true });
    return { field: box, read: () => ({ value: box.checked }) };
  }
  if (p.defined && (p.type === 'integer' || p.type === 'duration')) {
    const input = h('input', { ...label, type: 'number', step: 1, min: p.min, max: p.max, value: String(p.value), class: 'number' });
    return {
      field: input,
      // A number field reads '' for anything that is not a number.
      read: () => (input.value.trim() === '' ? { problem: 'Enter a whole number.' } : { value: Number(input.value) }),
    };
  }
  if (p.defined && p.choices?.length) {
    const select = h('select', label, ...p.choices.map((c) => h('option', { value: c, selected: c === p.value }, c)));
    return { field: select, read: () => ({ value: select.value }) };
  }
  const text = h('input', { ...label, type: 'text', value: String(p.value), spellcheck: 'false' });
  return { field: text, read: () => ({ value: text.value }) };
}

/** "0 to 100000 seconds" and the like, for the field's hint. */
function bounds(p: Property): string | null {
  const unit = p.type === 'duration' ? ' seconds' : '';
  if (p.min !== undefined && p.max !== undefined) return `${p.min} to ${p.max}${unit}`;
  if (p.min !== undefined) return `at least ${p.min}${unit}`;
  if (p.max !== undefined) return `at most ${p.max}${unit}`;
  return unit ? 'seconds' : null;
}

function row(p: Property, replace: (next: Property | undefined, note: string) => void, note = ''): HTMLTableRowElement {
  const edit = editor(p);
  const messages = h('div', { class: 'messages field-message' });
  if (note) setMessage(messages, 'success', note);
  const save = h('button', { type: 'submit' }, 'Save');
  const reset = h('button', { type: 'button', class: 'secondary', disabled: p.isDefault, title: 'Remove the stored value: back to the default' }, p.defined ? 'Default' : 'Delete');
  const busy = (on: boolean): void => {
    save.disabled = on;
    reset.disabled = on || p.isDefault;
  };

  // No browser validation: the API's own refusal, naming the bound, is what is shown.
  const form = h('form', { class: 'property-form', novalidate: true }, edit.field, save, reset, messages);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const read = edit.read();
    if ('problem' in read) return setMessage(messages, 'error', read.problem);
    busy(true);
    setProperty(p.name, read.value).then((next) => replace(next, 'Saved.'), (err: unknown) => {
      setMessage(messages, 'error', describe(err));
      busy(false);
    });
  });
  reset.addEventListener('click', () => {
    busy(true);
    unsetProperty(p.name).then((next) => replace(next, next ? 'Back to the default.' : ''), (err: unknown) => {
      setMessage(messages, 'error', describe(err));
      busy(false);
    });
  });

  const limit = bounds(p);
  return h('tr', { 'data-property': p.name },
    h('td', {},
      h('code', { class: 'property-name' }, p.name),
      p.isDefault ? null : h('span', { class: 'badge' }, 'changed'),
      p.defined && p.live === false ? h('span', { class: 'badge badge-warn' }, 'applies at restart') : null,
      h('div', { class: 'hint' }, p.defined ? p.description ?? '' : 'Not defined on this node: stored for a plugin that is not loaded here.'),
      p.problem ? h('div', { class: 'reason' }, p.problem) : null),
    h('td', {}, form, limit ? h('div', { class: 'hint' }, limit) : null),
    h('td', { class: 'default' }, p.defined ? String(p.default) : ''));
}

export const propertiesPage: Route = {
  path: '/properties',
  title: 'Properties',
  render(main) {
    const filter = h('input', { id: 'property-filter', type: 'search', placeholder: 'name or description', autocomplete: 'off' });
    const shown = h('span', { class: 'hint' });
    const tbody = h('tbody');
    const status = h('div', { class: 'messages' });

    const apply = (): void => {
      const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let visible = 0;
      for (const tr of tbody.rows) {
        tr.hidden = !words.every((w) => tr.textContent!.toLowerCase().includes(w));
        if (!tr.hidden) visible++;
      }
      shown.textContent = `${visible} of ${tbody.rows.length} shown`;
    };
    filter.addEventListener('input', apply);

    const place = (p: Property, note = ''): HTMLTableRowElement => {
      const tr: HTMLTableRowElement = row(p, (next, text) => {
        if (next) tr.replaceWith(place(next, text));
        else tr.remove();
        apply();
      }, note);
      return tr;
    };

    main.append(
      h('h1', {}, 'System properties'),
      h('p', { class: 'hint' }, 'Stored in the shared database: every node picks a change up within seconds. Values are checked against each property\'s type and bounds.'),
      h('p', { class: 'inline-form' }, h('label', { for: 'property-filter' }, 'Filter'), filter, shown),
      status,
      h('table', { class: 'properties' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Property'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Default'))),
        tbody));

    properties().then((all) => {
      tbody.replaceChildren(...all.map((p) => place(p)));
      apply();
      filter.focus();
    }, (err: unknown) => setMessage(status, 'error', `Cannot list the properties: ${describe(err)}`));
  },
};
