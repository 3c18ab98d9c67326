// Offline messages (RFC 6121 8.5.2.2.1, XEP-0160): a message to an account with no
// available resource is stored, stamped with its arrival time (XEP-0203), and delivered
// when the user next sends initial presence with a non-negative priority.
//
// Nothing is lost on the way: a message is stored before anyone is told otherwise, and
// rows are deleted only after their messages were written to a session that was still
// open afterwards. The price is that a crash at the wrong moment may deliver one twice.
import type { ClientSession } from '../session/client-session.ts';
import type { SessionEvent } from '../session/session-manager.ts';
import type { StanzaEvent } from '../routing/stanza-event.ts';
import { xml, type Element } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import { parseXml } from '../xml/stream-parser.ts';
import { processingHints } from '../xml/processing-hints.ts';
import type { XmppModule } from '../extension/module-context.ts';
import type { PropertyDefinition } from '../properties/types.ts';

const NS_DELAY = 'urn:xmpp:delay';

/**
 * Whether a message is worth keeping. Only messages with content a person reads are stored:
 * a message without body or subject (a chat state or receipt alone) is dropped, as XEP-0085
 * asks for chat states and XEP-0160 recommends; XEP-0334 hints override either way:
 * <store/> keeps one without a body (an encrypted payload, say), <no-store/> drops any.
 * <no-permanent-store/> does not stop it: XEP-0334 lets such a message be kept temporarily
 * as a normal part of delivery to an offline recipient, which is what this store is.
 * Headline, groupchat and error messages never get here: RFC 6121 8.5.2.2.1 has the kernel
 * deliver or drop them (routing/default-delivery.ts), and they are checked again for safety.
 */
export function worthStoring(message: Element): boolean {
  const type = message.attrs.type ?? 'normal';
  if (type !== 'normal' && type !== 'chat') return false;
  const hints = processingHints(message);
  if (hints.noStore) return false;
  if (hints.store) return true;
  return message.getChild('body') !== undefined || message.getChild('subject') !== undefined;
}

/** A copy with the XEP-0203 delay element saying when and where it was stored. */
export function stamped(message: Element, domain: string, at: Date): Element {
  const copy = message.clone();
  copy.attrs.xmlns ??= 'jabber:client';
  copy.append(xml('delay', { xmlns: NS_DELAY, from: domain, stamp: at.toISOString() }, 'Offline Storage'));
  return copy;
}

export const OFFLINE_PROPERTIES = {
  maxPerUser: {
    name: 'xmpp.offline.max-per-user',
    type: 'integer',
    default: 100,
    min: 0,
    max: 100000,
    description: 'Messages kept for a user who is offline; beyond it senders get an error (0 stores none)',
    live: true,
  } satisfies PropertyDefinition<number>,
  maxBytesPerUser: {
    name: 'xmpp.offline.max-bytes-per-user',
    type: 'integer',
    default: 1048576,
    min: 0,
    max: 1073741824,
    description: 'Bytes of messages kept for a user who is offline, all messages together; a message that would pass it is refused with <resource-constraint/> (0: no byte quota)',
    live: true,
  } satisfies PropertyDefinition<number>,
};

const MAX_ROUNDS = 3;

/** One turn of the event loop: what was queued on a transport is then on the socket. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const offlineModule: XmppModule = {
  name: 'offline',
  properties: Object.values(OFFLINE_PROPERTIES),
  storage: ['offline'],
  load(ctx) {
    const { kernel, domain } = ctx;
    const offline = ctx.repository('offline');
    const maxPerUser = ctx.property<number>(OFFLINE_PROPERTIES.maxPerUser);
    const maxBytesPerUser = ctx.property<number>(OFFLINE_PROPERTIES.maxBytesPerUser);
    ctx.feature('msgoffline');

    // Stores for one user run one at a time: on a database that runs transactions in
    // parallel (MySQL), messages would otherwise be stored, and delivered, out of order, and
    // at the limit an arbitrary one rather than the latest would be refused.
    const queues = new Map<string, Promise<unknown>>();
    const inOrder = <T>(username: string, task: () => Promise<T>): Promise<T> => {
      const result = (queues.get(username) ?? Promise.resolve()).then(task);
      const tail = result.catch(() => undefined);
      queues.set(username, tail);
      void tail.then(() => {
        if (queues.get(username) === tail) queues.delete(username);
      });
      return result;
    };

    ctx.hook<StanzaEvent>('message/offline', (ev) => {
      const limit = maxPerUser.value;
      if (limit <= 0) return false; // storage is off: the kernel answers service-unavailable
      if (!worthStoring(ev.stanza)) return true; // dropped without an error (see worthStoring)
      const text = stamped(ev.stanza, domain, new Date()).toString();
      inOrder(ev.to.local, () => offline.store(ev.to.local, text, limit, maxBytesPerUser.value)).then((stored) => {
        if (!stored) kernel.bounce(ev.stanza, new StanzaError('resource-constraint', 'The recipient has too many messages waiting'));
      }, (err) => {
        kernel.reportError('storing an offline message failed', err);
        kernel.bounce(ev.stanza, new StanzaError('internal-server-error', 'The message could not be stored'));
      });
      return true;
    });

    /** Users whose messages are being delivered now: one delivery per user at a time. */
    const delivering = new Set<string>();

    /** Delivers every stored message to the session in order; false if it closed first. */
    const deliverTo = async (session: ClientSession): Promise<boolean> => {
      const username = session.jid.local;
      // Messages stored while a batch was being delivered are picked up by the next round;
      // the bound keeps a storage that fails to delete from causing endless redelivery.
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const messages = await offline.list(username);
        if (session.closed) return false;
        if (!messages.length) return true;
        const done: number[] = [];
        for (const m of messages) {
          let el: Element;
          try {
            el = parseXml(m.stanza);
          } catch (err) {
            // Unreadable rows would block the queue forever; they are logged and dropped.
            ctx.log.error('dropping an unreadable offline message', { user: username, id: m.id, error: err });
            done.push(m.id);
            continue;
          }
          session.send(el);
          done.push(m.id);
        }
        await nextTurn();
        if (session.closed) return false;
        await offline.delete(username, done);
      }
      return true;
    };

    const flush = async (session: ClientSession): Promise<void> => {
      const username = session.jid.local;
      if (delivering.has(username)) return;
      delivering.add(username);
      try {
        let target: ClientSession | undefined = session;
        // If the session goes away midway, another available resource takes the messages.
        while (target && !(await deliverTo(target))) {
          target = [...kernel.localSessions(session.jid.bareString())].find((s) => !s.closed && s.available && s.priority >= 0);
        }
      } catch (err) {
        ctx.log.error('delivering offline messages failed', { user: username, error: err instanceof Error ? err.message : String(err) });
      } finally {
        delivering.delete(username);
      }
    };

    ctx.hook<SessionEvent>('presence/initial', ({ session }) => {
      if (session.priority >= 0) void flush(session);
    });
  },
};
