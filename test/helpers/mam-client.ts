// Archive queries (XEP-0313) from a RawClient: builds the form and RSM set, sends the IQ and
// collects the result messages that came before its answer.
import { randomBytes } from 'node:crypto';
import type { Element } from '../../server/xml/element.ts';
import type { RawClient } from './raw-client.ts';

export const NS_MAM = 'urn:xmpp:mam:2';

export interface MamQuery {
  /** Form fields: a string for one value, an array for several (ids). */
  form?: Record<string, string | string[]>;
  /** Children of the RSM <set/>, as XML text. */
  rsm?: string;
  flip?: boolean;
  /** Whose archive (default: the client's own). */
  to?: string;
}

export interface MamAnswer {
  iq: Element;
  results: Element[];
  /** The archive ids of the results, in the order received. */
  ids: string[];
  /** The bodies of the forwarded messages. */
  bodies: (string | undefined)[];
  fin?: Element;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');

export function queryXml(q: MamQuery, queryid: string): string {
  let form = '';
  if (q.form) {
    const fields = Object.entries(q.form).map(([name, value]) =>
      `<field var='${name}'>${(Array.isArray(value) ? value : [value]).map((v) => `<value>${escape(v)}</value>`).join('')}</field>`);
    form = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_MAM}</value></field>${fields.join('')}</x>`;
  }
  const rsm = q.rsm === undefined ? '' : `<set xmlns='http://jabber.org/protocol/rsm'>${q.rsm}</set>`;
  const to = q.to ? ` to='${q.to}'` : '';
  return `<iq type='set'${to}><query xmlns='${NS_MAM}' queryid='${queryid}'>${form}${rsm}${q.flip ? '<flip-page/>' : ''}</query></iq>`;
}

export async function mamQuery(client: RawClient, q: MamQuery = {}): Promise<MamAnswer> {
  const queryid = randomBytes(4).toString('hex');
  const iq = await client.iq(queryXml(q, queryid));
  const results: Element[] = [];
  for (let i = 0; i < client.inbox.length;) {
    const el = client.inbox[i]!;
    if (el.name === 'message' && el.getChild('result', NS_MAM)?.attrs.queryid === queryid) {
      results.push(el);
      client.inbox.splice(i, 1);
    } else i++;
  }
  const forwarded = (m: Element): Element | undefined => m.getChild('result', NS_MAM)?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
  return {
    iq,
    results,
    ids: results.map((m) => m.getChild('result', NS_MAM)!.attrs.id!),
    bodies: results.map((m) => forwarded(m)?.getChildText('body')),
    fin: iq.getChild('fin', NS_MAM),
  };
}

/** The RSM summary of an answer: first (and its index), last, count, complete. */
export function page(answer: MamAnswer): { first?: string; index?: string; last?: string; count?: string; complete: boolean } {
  const set = answer.fin?.getChild('set', 'http://jabber.org/protocol/rsm');
  const first = set?.getChild('first');
  return {
    first: first?.getText(),
    index: first?.attrs.index,
    last: set?.getChildText('last'),
    count: set?.getChildText('count'),
    complete: answer.fin?.attrs.complete === 'true',
  };
}

/** The archive id the server put in a received message for `by`. */
export function stanzaId(message: Element, by: string): string | undefined {
  return message.getChildren('stanza-id', 'urn:xmpp:sid:0').find((s) => s.attrs.by === by)?.attrs.id;
}
