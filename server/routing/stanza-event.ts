// The payload of every stanza event the router fires. Event names follow routing:
//
//   iq/host/<type>/<xmlns>   IQ get/set addressed to the server domain
//   iq/bare/<type>/<xmlns>   IQ get/set addressed to an account (a bare JID, or no 'to': RFC 6120 10.3.3)
//   iq/full                  IQ to a full JID
//   iq/result                result/error to the server (answers to IQs the server sent)
//   message/host | message/bare | message/full
//   presence/host | presence/bare | presence/full
//   presence/broadcast       presence without 'to' from a client (RFC 6121 4.2 / 4.4)
//   message/offline          a message RFC 6121 says to store for later; unhandled -> error
//   message/delivered        after the delivery rules handed a message to an account's
//                            resources or its offline store (MessageDeliveredEvent)
//   service/<domain>         any stanza to a service of this server on a subdomain (proxy.<domain>)
//   stanza/pre-route         every stanza before the above; a handler returning true drops it
//
// A handler returns true when it took the stanza. The kernel registers the RFC 6121
// delivery rules at priority -100 (routing/default-delivery.ts), so modules hook above.
import type { JID } from '../jid/jid.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { Element } from '../xml/element.ts';

export interface StanzaEvent {
  stanza: Element;
  /** Sender, already stamped and prepared. */
  from: JID;
  /** Recipient; for a client's IQ or message without 'to', the sender's bare JID. */
  to: JID;
  /** The local session that sent it, or null when the server or another node did. */
  origin: ClientSession | null;
}

/**
 * A message to one of our accounts that the RFC 6121 rules delivered: `recipients` are the
 * full JIDs it was handed to, on any node (none when it went to offline storage). Messages
 * refused, dropped or taken by a module before the rules are not reported.
 */
export interface MessageDeliveredEvent extends StanzaEvent {
  readonly recipients: readonly string[];
}

export const MESSAGE_DELIVERED = 'message/delivered';

export const DEFAULT_PRIORITY = -100;

export function iqEventName(target: 'host' | 'bare', type: string, xmlns: string): string {
  return `iq/${target}/${type}/${xmlns}`;
}

export function serviceEventName(domain: string): string {
  return `service/${domain}`;
}
