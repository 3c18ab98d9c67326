// The verification string of XEP-0115 (Entity Capabilities) section 5: a SHA-1 over an
// entity's disco#info answer (identities, features, XEP-0128 extended forms), which the
// server announces for itself in its stream features. Computed from the <query/> element
// itself, so that what is hashed is exactly what disco#info answers, and so that a module
// checking someone else's caps can hash their answer the same way.
import { createHash } from 'node:crypto';
import type { Element } from '../xml/element.ts';

export const NS_CAPS = 'http://jabber.org/protocol/caps';
const NS_DATA = 'jabber:x:data';
const XML_LANG = 'xml:lang';

/** Octet order (XEP-0115 5.1 sorts by "i;octet", which is UTF-8 byte order). */
function byOctets(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function formType(form: Element): string | undefined {
  const field = form.getChildren('field').find((f) => f.attrs.var === 'FORM_TYPE');
  return field?.getChildText('value');
}

/** The string XEP-0115 5.1 hashes, for a disco#info <query/>. */
export function capsString(query: Element): string {
  let s = '';
  const identities = query.getChildren('identity').map((i) =>
    `${i.attrs.category ?? ''}/${i.attrs.type ?? ''}/${i.attrs[XML_LANG] ?? ''}/${i.attrs.name ?? ''}`);
  for (const id of identities.sort(byOctets)) s += `${id}<`;
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  for (const f of features.sort(byOctets)) s += `${f}<`;
  // Forms without a FORM_TYPE are left out (5.4, step 3.6).
  const forms = query.getChildren('x', NS_DATA).filter((x) => formType(x) !== undefined)
    .sort((a, b) => byOctets(formType(a)!, formType(b)!));
  for (const form of forms) {
    s += `${formType(form)}<`;
    const fields = form.getChildren('field').filter((f) => f.attrs.var !== 'FORM_TYPE')
      .sort((a, b) => byOctets(a.attrs.var ?? '', b.attrs.var ?? ''));
    for (const field of fields) {
      s += `${field.attrs.var ?? ''}<`;
      for (const value of field.getChildren('value').map((v) => v.getText()).sort(byOctets)) s += `${value}<`;
    }
  }
  return s;
}

/** The 'ver' attribute for hash='sha-1': base64 of the SHA-1 of capsString. */
export function capsVer(query: Element): string {
  return createHash('sha1').update(capsString(query), 'utf8').digest('base64');
}
