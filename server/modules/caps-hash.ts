// XEP-0115 section 5: the verification string of a disco#info answer, so that what a client
// says its caps `ver` stands for can be checked before anyone else relies on it (PEP), and
// so that the server can announce its own (the disco module).
import { createHash } from 'node:crypto';
import type { Element } from '../xml/element.ts';
import type { CapsInfo } from '../storage/types.ts';

export const NS_CAPS = 'http://jabber.org/protocol/caps';
const NS_DATA = 'jabber:x:data';

/** The hash names of the IANA registry that XEP-0115 uses, as Node knows them. */
const HASHES: Record<string, string> = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

export function supportedHash(name: string): boolean {
  return Object.hasOwn(HASHES, name);
}

/** Octet order ("i;octet"), which is not the UTF-16 order of JavaScript's `<`. */
function byOctets(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** What a disco#info answer announces; null if it breaks the rules of 5.4 (duplicates). */
export function capsInfoOf(query: Element): CapsInfo | null {
  const identities = query.getChildren('identity').map((i) => ({
    category: i.attrs.category ?? '',
    type: i.attrs.type ?? '',
    ...(i.attrs['xml:lang'] !== undefined ? { lang: i.attrs['xml:lang'] } : {}),
    ...(i.attrs.name !== undefined ? { name: i.attrs.name } : {}),
  }));
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  const idKeys = identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`);
  if (new Set(idKeys).size !== idKeys.length || new Set(features).size !== features.length) return null;
  return { identities, features };
}

/** The string of 5.1 for an answer, or null if its extended forms break the rules of 5.4. */
function verificationInput(query: Element): string | null {
  const info = capsInfoOf(query);
  if (!info) return null;
  let s = '';
  for (const id of info.identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`).sort(byOctets)) s += `${id}<`;
  for (const f of [...info.features].sort(byOctets)) s += `${f}<`;
  const forms: { type: string; text: string }[] = [];
  for (const form of query.getChildren('x', NS_DATA)) {
    const fields = form.getChildren('field');
    const formType = fields.find((f) => f.attrs.var === 'FORM_TYPE');
    if (!formType) continue; // a form without FORM_TYPE is left out
    const types = formType.getChildren('value');
    if (types.length !== 1 || formType.attrs.type !== 'hidden') return null;
    let text = `${types[0]!.getText()}<`;
    const rest = fields.filter((f) => f !== formType).sort((a, b) => byOctets(a.attrs.var ?? '', b.attrs.var ?? ''));
    for (const field of rest) {
      text += `${field.attrs.var ?? ''}<`;
      for (const v of field.getChildren('value').map((e) => e.getText()).sort(byOctets)) text += `${v}<`;
    }
    forms.push({ type: types[0]!.getText(), text });
  }
  if (new Set(forms.map((f) => f.type)).size !== forms.length) return null;
  for (const f of forms.sort((a, b) => byOctets(a.type, b.type))) s += f.text;
  return s;
}

/** The verification string (`ver`) of an answer under the hash; null for an unknown hash or an answer 5.4 rejects. */
export function capsVer(query: Element, hash = 'sha-1'): string | null {
  const algorithm = HASHES[hash];
  if (!algorithm) return null;
  const input = verificationInput(query);
  return input === null ? null : createHash(algorithm).update(input, 'utf8').digest('base64');
}

/** Whether `ver` is the verification string of the answer under the hash. */
export function verifies(query: Element, hash: string, ver: string): boolean {
  const computed = capsVer(query, hash);
  return computed !== null && computed === ver;
}
