// What goes into a user's archive (XEP-0313 5.1.1): messages of type normal or chat that
// carry a body, sent or received by the account. Errors, headlines and groupchat messages
// are not archived (group chats keep archives of their own); XEP-0334 hints decide either
// way: <no-store/> and <no-permanent-store/> keep a message out, <store/> lets one without a
// body in (a receipt a client wants kept, say).
import type { Element } from '../../xml/element.ts';
import { mayArchive, processingHints } from '../../xml/processing-hints.ts';

export function archivable(message: Element): boolean {
  const type = message.attrs.type ?? 'normal';
  if (type !== 'normal' && type !== 'chat') return false;
  // The hints are read where offline storage and carbons read them (xml/processing-hints.ts).
  const hints = processingHints(message);
  if (!mayArchive(hints)) return false;
  return hints.store || message.getChild('body') !== undefined;
}
