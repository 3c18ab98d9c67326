// The little of XEP-0004 data forms that node configuration and publish-options need:
// read a submitted form into field values, and write a form of typed fields.
import { xml, type Element } from '../../xml/element.ts';
import { NS_DATA } from './namespaces.ts';

export interface FormField {
  var: string;
  type: 'boolean' | 'list-single' | 'list-multi' | 'text-single' | 'jid-multi' | 'hidden';
  label?: string;
  /** The value; for a *-multi field its values, one per line. */
  value: string;
  options?: readonly string[];
}

/** The jabber:x:data child of an element, if any. */
export function formIn(parent: Element | undefined): Element | undefined {
  return parent?.getChild('x', NS_DATA);
}

/**
 * Field values of a submitted form by var, FORM_TYPE included. A field of several values
 * (list-multi) has them one per line; a single-valued option given several thus fails its
 * check rather than being read as its first.
 */
export function formValues(form: Element): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var;
    if (name === undefined) continue;
    out.set(name, field.getChildren('value').map((v) => v.getText()).join('\n'));
  }
  return out;
}

export function renderForm(type: 'form' | 'result', formType: string, fields: readonly FormField[]): Element {
  const form = xml('x', { xmlns: NS_DATA, type });
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(formType);
  for (const f of fields) {
    const field = form.c('field', { var: f.var, type: f.type, label: f.label });
    for (const option of f.options ?? []) field.c('option').c('value').t(option);
    const multi = f.type === 'list-multi' || f.type === 'jid-multi';
    for (const value of multi ? f.value.split('\n').filter((v) => v !== '') : [f.value]) field.c('value').t(value);
  }
  return form;
}
