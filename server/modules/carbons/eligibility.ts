// Which messages are carbon-copied (XEP-0280 section 6, whose rules the XEP leaves to the
// server; these are its suggested ones): chat always, normal with a body, nothing else.
// Errors would need the server to remember which message each answers, so they are not
// copied, as the XEP expects of most servers; groupchat and headlines never are.
import type { Element } from '../../xml/element.ts';
import { processingHints } from '../../xml/processing-hints.ts';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';

/** The carbons wrapper a message carries (<sent/> or <received/>), if any. */
export function carbonWrapper(message: Element): Element | undefined {
  for (const child of message.getChildElements()) {
    if (child.getNS() === NS_CARBONS && (child.localName === 'sent' || child.localName === 'received')) return child;
  }
  return undefined;
}

/** Whether a sender asked that the message not be copied: <private/> or the <no-copy/> hint. */
export function copyRefused(message: Element): boolean {
  return message.getChild('private', NS_CARBONS) !== undefined || processingHints(message).noCopy;
}

export function eligibleForCarbons(message: Element): boolean {
  const type = message.attrs.type ?? 'normal';
  if (type === 'chat') {
    // fall through to the checks every eligible message passes
  } else if (type !== 'normal' || message.getChild('body') === undefined) {
    return false;
  }
  // A copy is never copied again, and what a chat room sends (private messages included)
  // is the room's to distribute.
  if (carbonWrapper(message) || message.getChild('x', NS_MUC_USER)) return false;
  return !copyRefused(message);
}
