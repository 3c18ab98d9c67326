// What goes into a user's archive (XEP-0313 5.1.1): messages of type normal or chat that
// carry a body, sent or received by the account. Errors, headlines and groupchat messages
// are not archived (group chats keep archives of their own); XEP-0334 hints decide either
// way: <no-store/> and <no-permanent-store/> keep a message out, <store/> lets one without a
// body in (a receipt a client wants kept, say).
import type { Element } from '../../xml/element.ts';

const NS_HINTS = 'urn:xmpp:hints';

export function archivable(message: Element): boolean {
  const type = message.attrs.type ?? 'normal';
  if (type !== 'normal' && type !== 'chat') return false;
  let body = false;
  let store = false;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const name = child.localName;
    if (name === 'body') body = true;
    else if (child.attrs.xmlns === NS_HINTS) {
      if (name === 'no-store' || name === 'no-permanent-store') return false;
      if (name === 'store') store = true;
    }
  }
  return body || store;
}
