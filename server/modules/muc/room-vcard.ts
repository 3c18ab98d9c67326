// A room's vCard (XEP-0054 at the room's bare JID), which carries its avatar (XEP-0486):
// checking what an owner sets, and the avatar hashes the room advertises (XEP-0153's: the
// SHA-1 of each photo's decoded image). The room keeps the vCard as text, as the store and
// a standby copy do, and parses it only to answer a query.
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { vcardPhoto } from '../vcard-photo.ts';
import { NS_VCARD } from './namespaces.ts';

/** The vCard an owner sets, as the room keeps it: null for an empty one, which removes the avatar. */
export function roomVcardText(payload: Element, maxBytes: number): string | null {
  if (payload.localName !== 'vCard') throw new StanzaError('bad-request', 'A room\'s vCard is set with a vCard element');
  if (payload.getChildElements().length === 0) return null;
  // Kept with its namespace on the root, so that it parses on its own again.
  const vcard = payload.clone();
  vcard.attrs.xmlns = NS_VCARD;
  const text = vcard.toString();
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    // As for an account's vCard (modules/vcard.ts): XEP-0054 names no condition for this.
    throw new StanzaError('not-acceptable', `The vCard is larger than the ${maxBytes} bytes allowed`);
  }
  return text;
}

/** The vCard to answer a query with: an empty one when the room has none. */
export function roomVcardElement(text: string | null): Element {
  return text === null ? xml('vCard', { xmlns: NS_VCARD }) : parseXml(text);
}

/** SHA-1 in hex of each photo's image (XEP-0486 7.1: one per PHOTO); none without a photo. */
export function avatarHashes(text: string | null): string[] {
  if (text === null) return [];
  return parseXml(text).getChildren('PHOTO').map((photo) => vcardPhoto(photo)?.hash).filter((h): h is string => h !== undefined);
}
