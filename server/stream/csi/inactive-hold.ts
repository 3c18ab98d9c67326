// Client state indication (XEP-0352): while a client says it is inactive, what it would only
// redraw (presence updates, chat states) is held back, and sent in one go when it becomes
// active again or when something it must see at once (a message with a body, an IQ,
// anything else) is sent to it. Only the latest presence of each sender is kept.
import type { ClientSession, OutboundHold } from '../../session/client-session.ts';
import type { Element } from '../../xml/element.ts';

export const NS_CSI = 'urn:xmpp:csi:0';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
/** Children a chat state notification may carry besides the state itself. */
const CHATSTATE_COMPANIONS = new Set(['urn:xmpp:hints', 'urn:xmpp:delay', 'urn:xmpp:sid:0']);

/** A presence update (not a subscription request, probe or error): superseded by the next one. */
function isPresenceUpdate(el: Element): boolean {
  return el.name === 'presence' && (el.attrs.type === undefined || el.attrs.type === 'unavailable');
}

/** A message that carries a chat state (XEP-0085) and nothing a person reads. */
function isChatStateOnly(el: Element): boolean {
  if (el.name !== 'message' || el.attrs.type === 'error') return false;
  let state = false;
  for (const child of el.getChildElements()) {
    const ns = child.getNS();
    if (ns === NS_CHATSTATES) state = true;
    else if (child.name !== 'thread' && !CHATSTATE_COMPANIONS.has(ns ?? '')) return false;
  }
  return state;
}

export class InactiveHold implements OutboundHold {
  /** Held stanzas in the order they are to be sent; a presence is keyed by its sender. */
  private readonly held = new Map<string, Element>();
  private serial = 0;

  constructor(private readonly session: ClientSession, private readonly maxHeld: () => number) {}

  get size(): number {
    return this.held.size;
  }

  offer(el: Element): boolean {
    if (isPresenceUpdate(el)) {
      const key = `p ${el.attrs.from ?? ''}`;
      // Deleted first, so the newest update takes the place of its arrival in the order.
      this.held.delete(key);
      this.held.set(key, el);
    } else if (isChatStateOnly(el)) {
      this.held.set(`m ${this.serial++}`, el);
    } else {
      this.flush();
      return false;
    }
    if (this.held.size > this.maxHeld()) this.flush();
    return true;
  }

  /** Sends everything held, in order. */
  flush(): void {
    if (!this.held.size) return;
    const all = [...this.held.values()];
    this.held.clear();
    for (const el of all) this.session.deliver(el);
  }
}
