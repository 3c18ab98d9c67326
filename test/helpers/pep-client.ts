// What PEP tests need of a client: entity capabilities announced in presence and the
// disco#info answer behind them (XEP-0115), computed here independently of the server's code.
import { createHash } from 'node:crypto';
import type { RosterItem } from '../../server/storage/types.ts';
import type { Element } from '../../server/xml/element.ts';
import { RawClient } from './raw-client.ts';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
export const CAPS_NODE = 'https://xmppd.test/client';

/** XEP-0115 5.1 for one identity client/pc and a feature list. */
export function capsVer(features: readonly string[], name = 'test'): string {
  const sorted = [...new Set(features)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const input = `client/pc//${name}<${sorted.map((f) => `${f}<`).join('')}`;
  return createHash('sha1').update(input, 'utf8').digest('base64');
}

export interface CapsAnswerer {
  /** disco#info queries the server sent this client. */
  readonly queries: Element[];
  /**
   * The presence announcing these features, whose disco#info the answerer gives from now on;
   * `lie` answers with other features than the ver stands for.
   */
  presence(features: readonly string[], opts?: { lie?: readonly string[]; name?: string }): string;
}

/** Answers the server's disco#info queries at node#ver, as a client with these caps would. */
export function answerCaps(client: RawClient): CapsAnswerer {
  const answers = new Map<string, string>();
  const queries: Element[] = [];
  const isQuery = (el: Element): boolean => el.name === 'iq' && el.attrs.type === 'get' && el.getChild('query')?.attrs.xmlns === 'http://jabber.org/protocol/disco#info';
  const loop = async (): Promise<void> => {
    for (;;) {
      let iq: Element;
      try {
        iq = await client.expect(isQuery, 3_600_000);
      } catch {
        return; // the connection closed
      }
      queries.push(iq);
      const node = iq.getChild('query')!.attrs.node ?? '';
      const body = answers.get(node.slice(node.indexOf('#') + 1)) ?? '';
      client.send(`<iq type='result' id='${iq.attrs.id}' to='${iq.attrs.from}'><query xmlns='http://jabber.org/protocol/disco#info' node='${node}'>${body}</query></iq>`);
    }
  };
  void loop();
  return {
    queries,
    presence(features, opts = {}) {
      const name = opts.name ?? 'test';
      const ver = capsVer(features, name);
      const shown = opts.lie ?? features;
      answers.set(ver, `<identity category='client' type='pc' name='${name}'/>${shown.map((f) => `<feature var='${f}'/>`).join('')}`);
      return capsPresence(features, name);
    },
  };
}

/**
 * A client of `user` (password `<user>-pw`) on the c2s port that announces caps with these
 * features and answers the server's query for them; pushed on `clients` for the test's end.
 */
export async function onlineWithCaps(port: number, user: string, resource: string, features: readonly string[], clients: RawClient[]): Promise<RawClient> {
  const c = await RawClient.login(port, user, `${user}-pw`, { resource });
  clients.push(c);
  c.send(answerCaps(c).presence(features));
  return c;
}

/** Presence carrying the caps of a feature list. */
export function capsPresence(features: readonly string[], name = 'test'): string {
  return `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='${CAPS_NODE}' ver='${capsVer(features, name)}'/></presence>`;
}

/** Waits for a PEP notification of a node. */
export function expectEvent(client: RawClient, node: string, timeoutMs = 5_000): Promise<Element> {
  return client.expect((el) => el.name === 'message' && el.getChild('event', NS_EVENT)?.getChildElements()[0]?.attrs.node === node, timeoutMs);
}

/** The first child of the event (items, delete). */
export function eventContent(message: Element): Element {
  return message.getChild('event', NS_EVENT)!.getChildElements()[0]!;
}

export function publishIq(node: string, id: string, payload: string, options?: Record<string, string>): string {
  const form = options
    ? `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>${Object.entries(options).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('')}</x></publish-options>`
    : '';
  return `<iq type='set'><pubsub xmlns='${NS_PUBSUB}'><publish node='${node}'><item id='${id}'>${payload}</item></publish>${form}</pubsub></iq>`;
}

/** The pubsub-specific condition of an error reply. */
export function pubsubCondition(iq: Element): string | undefined {
  return iq.getChild('error')?.getChildElements().find((c) => c.attrs.xmlns === NS_ERRORS)?.name;
}

/** A roster item of a contact, as a test puts it into storage directly. */
export function contactItem(jid: string, subscription: RosterItem['subscription'] = 'both'): RosterItem {
  return { jid, name: null, subscription, askOut: false, askIn: false, askInStanza: null, approved: false, added: true, groups: [] };
}
