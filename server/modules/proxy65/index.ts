// XEP-0065 SOCKS5 Bytestreams proxy at proxy.<domain>, as Openfire, ejabberd and Prosody
// offer: two clients that cannot reach each other directly (both behind NAT, the common case)
// transfer files through it. The XMPP side is here: disco, the streamhost query, activation;
// the relay itself is socks5-relay.ts.
//
// In a cluster every node runs its own relay and advertises its own address, so both parties
// connect to the node the initiator asked, and the initiator's activation (sent after it
// connected too) is handled by that same node. When an address shared by several nodes is
// configured (a balancer in front), the two connections may land on another node than the
// activation: the activation is then passed to the other nodes (remote/proxy65-activate).
import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { JID } from '../../jid/jid.ts';
import type { XmppModule } from '../../extension/module-context.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError, errorReply } from '../../xml/errors.ts';
import { Socks5Relay } from './socks5-relay.ts';

export const NS_BYTESTREAMS = 'http://jabber.org/protocol/bytestreams';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
const ACTIVATE_EVENT = 'remote/proxy65-activate';

export const PROXY65_PROPERTIES = {
  port: {
    name: 'xmpp.proxy65.port',
    type: 'integer',
    default: 7777,
    min: 0,
    max: 65535,
    description: 'TCP port of the file transfer proxy (XEP-0065) on every node; 0 turns the proxy off',
    live: true,
  } satisfies PropertyDefinition<number>,
  host: {
    name: 'xmpp.proxy65.host',
    type: 'string',
    default: '',
    description: 'Address clients are told to connect to for the file transfer proxy; empty: this node\'s first non-loopback IPv4 address',
    live: true,
  } satisfies PropertyDefinition<string>,
  maxPending: {
    name: 'xmpp.proxy65.max-pending',
    type: 'integer',
    default: 200,
    min: 2,
    max: 100000,
    description: 'Connections to the file transfer proxy waiting for their peer or their activation, at most, per node',
    live: true,
  } satisfies PropertyDefinition<number>,
  activationTimeout: {
    name: 'xmpp.proxy65.activation-timeout',
    type: 'duration',
    default: 60,
    min: 1,
    max: 3600,
    description: 'Seconds a connection to the file transfer proxy may wait to be activated before it is closed',
    live: true,
  } satisfies PropertyDefinition<number>,
};

/** The address a client on another machine can reach this node at, when none is configured. */
function defaultHost(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** XEP-0065 5.3.2: the stream's address. */
export function streamHash(sid: string, initiator: string, target: string): string {
  return createHash('sha1').update(`${sid}${initiator}${target}`).digest('hex');
}

export const proxy65Module: XmppModule = {
  name: 'proxy65',
  properties: Object.values(PROXY65_PROPERTIES),
  async load(ctx) {
    const { kernel } = ctx;
    const port = ctx.property<number>(PROXY65_PROPERTIES.port);
    const host = ctx.property<string>(PROXY65_PROPERTIES.host);
    const maxPending = ctx.property<number>(PROXY65_PROPERTIES.maxPending);
    const activationTimeout = ctx.property<number>(PROXY65_PROPERTIES.activationTimeout);
    const relay = new Socks5Relay(() => ({ maxPending: maxPending.value, activationTimeoutMs: activationTimeout.value * 1000 }), ctx.log);
    let listening: number | null = null;

    const listen = async (wanted: number): Promise<void> => {
      if (wanted === 0) return;
      try {
        listening = (await relay.listen(wanted)).port;
        ctx.log.info('file transfer proxy listening', { port: listening, jid: domain });
      } catch (err) {
        // Another program holds the port: the server runs without a proxy, and says so.
        ctx.log.warn('file transfer proxy not started', { port: wanted, error: err instanceof Error ? err.message : String(err) });
      }
    };
    // A new port applies at once: transfers waiting for activation are dropped, those
    // under way go on over their connections.
    let restarting = Promise.resolve();
    ctx.watch(port, (p) => {
      restarting = restarting.then(async () => {
        if (listening !== null) await relay.close();
        listening = null;
        await listen(p);
      });
    });
    ctx.onUnload(() => relay.close());

    const answer = (ev: StanzaEvent, payload?: Element): void => {
      const iq = xml('iq', { type: 'result', id: ev.stanza.attrs.id, from: ev.stanza.attrs.to, to: ev.stanza.attrs.from });
      if (payload) iq.append(payload);
      kernel.route(iq, JID.parse(domain));
    };
    const fail = (ev: StanzaEvent, err: StanzaError): void => kernel.route(errorReply(ev.stanza, err), JID.parse(domain));

    const activate = (ev: StanzaEvent, query: Element): void => {
      const sid = query.attrs.sid;
      const target = JID.tryParse(query.getChildText('activate')?.trim() ?? '');
      if (!sid || !target || !target.resource) return fail(ev, new StanzaError('bad-request', 'Activation needs a sid and the target\'s full JID'));
      // Only the initiator can activate: its full JID is part of the hash (XEP-0065 6.3.2).
      const hash = streamHash(sid, ev.from.toString(), target.toString());
      if (relay.activate(hash)) return answer(ev);
      if (kernel.clustered()) {
        kernel.broadcast(ACTIVATE_EVENT, { hash });
        return answer(ev);
      }
      fail(ev, new StanzaError('item-not-found', 'Both parties have not connected to the proxy for this stream'));
    };

    const handle = (ev: StanzaEvent): boolean => {
      const { stanza } = ev;
      if (stanza.name !== 'iq' || (stanza.attrs.type !== 'get' && stanza.attrs.type !== 'set')) return stanza.name === 'iq';
      // Only this server's users: the proxy relays for them, not for anyone who finds it.
      if (ev.from.domain !== ctx.domain || !ev.from.local) {
        fail(ev, new StanzaError('forbidden', 'The proxy serves this server\'s users only'));
        return true;
      }
      const query = stanza.getChildElements()[0];
      const ns = query?.getNS();
      if (stanza.attrs.type === 'get' && ns === NS_DISCO_INFO) {
        answer(ev, xml('query', { xmlns: NS_DISCO_INFO },
          xml('identity', { category: 'proxy', type: 'bytestreams', name: 'File transfer proxy' }),
          xml('feature', { var: NS_DISCO_INFO }),
          xml('feature', { var: NS_BYTESTREAMS })));
        return true;
      }
      if (stanza.attrs.type === 'get' && ns === NS_DISCO_ITEMS) {
        answer(ev, xml('query', { xmlns: NS_DISCO_ITEMS }));
        return true;
      }
      if (ns !== NS_BYTESTREAMS) return false;
      if (listening === null) {
        fail(ev, new StanzaError('service-unavailable', 'The file transfer proxy is not running on this node'));
        return true;
      }
      if (stanza.attrs.type === 'get') {
        // XEP-0065 4: where to connect.
        answer(ev, xml('query', { xmlns: NS_BYTESTREAMS },
          xml('streamhost', { jid: domain, host: host.value || defaultHost(), port: String(listening) })));
      } else {
        activate(ev, query!);
      }
      return true;
    };

    const domain = ctx.service('proxy', 'File transfer proxy', handle);
    ctx.hook<{ hash: string }>(ACTIVATE_EVENT, ({ hash }) => {
      if (typeof hash === 'string') relay.activate(hash);
      return true;
    });
    await listen(port.value);
  },
};
