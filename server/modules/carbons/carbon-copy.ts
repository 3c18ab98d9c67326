// The forwarded copy of XEP-0280 sections 7 and 8: a message from the account's bare JID to
// one of its resources, with the original inside <received/> or <sent/> and XEP-0297's
// <forwarded/>. Clients trust such a copy only from their own bare JID, which only the
// server can send from; see index.ts for what is done to a client that tries.
import type { Element } from '../../xml/element.ts';
import { xml } from '../../xml/element.ts';
import { NS_CARBONS, NS_FORWARD } from './eligibility.ts';

export type CarbonDirection = 'sent' | 'received';

export function carbonCopy(direction: CarbonDirection, original: Element, account: string, to: string): Element {
  const inner = original.clone();
  inner.attrs.xmlns = 'jabber:client';
  const attrs: Record<string, string | undefined> = { xmlns: 'jabber:client', from: account, to };
  // The copy keeps the type of the original (XEP-0280 sections 7 and 8: SHOULD).
  if (original.attrs.type !== undefined) attrs.type = original.attrs.type;
  return xml('message', attrs, xml(direction, { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, inner)));
}
