// XMPP stanzas of every kind the server handles, as a client would send them: messages,
// presence (subscriptions included), and IQs to each of the server's namespaces. The text and
// attribute generators of xml-gen.ts fill in the parts a peer chooses freely.
import type { Rng } from './rng.ts';
import { element, textContent, type Scope } from './xml-gen.ts';

export interface StanzaContext {
  domain: string;
  /** Bare JIDs of other accounts (for messages, subscriptions, IQs to accounts). */
  peers: readonly string[];
  /** The sender's own account name and password (register stanzas use them unchanged). */
  username: string;
  password: string;
}

/** Drawn from the case's generator, so that a case replays byte for byte. */
const id = (rng: Rng): string => `f${rng.next().toString(36)}`;

function to(rng: Rng, ctx: StanzaContext): string {
  const peer = rng.pick(ctx.peers);
  return rng.pick([peer, `${peer}/res`, ctx.domain, `${ctx.username}@${ctx.domain}`, `nobody@${ctx.domain}`, `x@other.example`]);
}

const iq = (rng: Rng, type: string, target: string | null, payload: string): string =>
  `<iq type='${type}' id='${id(rng)}'${target ? ` to='${target}'` : ''}>${payload}</iq>`;

type Template = (rng: Rng, ctx: StanzaContext, scope: Scope) => string;

const TEMPLATES: Record<string, Template> = {
  message: (rng, ctx, scope) => {
    const type = rng.pick(['chat', 'normal', 'headline', 'groupchat', 'error', '']);
    let inner = `<body>${textContent(rng)}</body>`;
    if (rng.chance(0.3)) inner += `<thread>${id(rng)}</thread>`;
    if (rng.chance(0.2)) inner += `<subject>${textContent(rng, 2)}</subject>`;
    if (rng.chance(0.2)) inner += "<active xmlns='http://jabber.org/protocol/chatstates'/>";
    if (rng.chance(0.2)) inner += "<request xmlns='urn:xmpp:receipts'/>";
    if (rng.chance(0.2)) inner += `<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>${textContent(rng, 3)}</p></body></html>`;
    if (rng.chance(0.3)) inner += element(rng, scope, { maxDepth: 3 });
    return `<message to='${to(rng, ctx)}' id='${id(rng)}'${type ? ` type='${type}'` : ''}>${inner}</message>`;
  },
  presence: (rng, ctx) => {
    let inner = '';
    if (rng.chance(0.5)) inner += `<show>${rng.pick(['away', 'chat', 'dnd', 'xa'])}</show>`;
    if (rng.chance(0.5)) inner += `<status>${textContent(rng, 3)}</status>`;
    if (rng.chance(0.4)) inner += `<priority>${rng.pick(['0', '5', '-1', '127', '-128', '200', 'x'])}</priority>`;
    if (rng.chance(0.3)) inner += "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>";
    const directed = rng.chance(0.3) ? ` to='${to(rng, ctx)}'` : '';
    const type = rng.chance(0.2) ? " type='unavailable'" : '';
    return inner === '' ? `<presence${directed}${type}/>` : `<presence${directed}${type}>${inner}</presence>`;
  },
  subscription: (rng, ctx) => {
    const type = rng.pick(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe']);
    return `<presence to='${rng.pick(ctx.peers)}' type='${type}'${rng.chance(0.3) ? ` id='${id(rng)}'` : ''}/>`;
  },
  roster: (rng, ctx) => {
    if (rng.chance(0.4)) return iq(rng, 'get', null, `<query xmlns='jabber:iq:roster'${rng.chance(0.5) ? " ver=''" : ''}/>`);
    const groups = Array.from({ length: rng.size(3) }, () => `<group>${textContent(rng, 2)}</group>`).join('');
    const sub = rng.chance(0.2) ? " subscription='remove'" : '';
    return iq(rng, 'set', null, `<query xmlns='jabber:iq:roster'><item jid='${rng.pick(ctx.peers)}' name='${rng.pick(['Bob', 'x', '\u00e9'])}'${sub}>${groups}</item></query>`);
  },
  disco: (rng, ctx) => iq(rng, 'get', rng.pick([ctx.domain, rng.pick(ctx.peers), `${ctx.username}@${ctx.domain}`]),
    `<query xmlns='http://jabber.org/protocol/disco#${rng.pick(['info', 'items'])}'${rng.chance(0.2) ? " node='n'" : ''}/>`),
  ping: (rng, ctx) => iq(rng, 'get', rng.pick([ctx.domain, rng.pick(ctx.peers) + '/watch']), "<ping xmlns='urn:xmpp:ping'/>"),
  vcard: (rng, ctx) => rng.chance(0.5)
    ? iq(rng, 'get', rng.chance(0.5) ? rng.pick(ctx.peers) : null, "<vCard xmlns='vcard-temp'/>")
    : iq(rng, 'set', null, `<vCard xmlns='vcard-temp'><FN>${textContent(rng, 3)}</FN><NICKNAME>${textContent(rng, 2)}</NICKNAME><DESC>${textContent(rng)}</DESC></vCard>`),
  private: (rng) => rng.chance(0.5)
    ? iq(rng, 'get', null, "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>")
    : iq(rng, 'set', null, `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='room@conference.example' name='${rng.pick(['r', '\u00e9'])}'/><x xmlns='urn:x'>${textContent(rng, 3)}</x></storage></query>`),
  blocking: (rng, ctx) => {
    const kind = rng.pick(['blocklist', 'block', 'unblock']);
    if (kind === 'blocklist') return iq(rng, 'get', null, "<blocklist xmlns='urn:xmpp:blocking'/>");
    // Never the bystanders: blocking them would lose messages the watchdog counts.
    const items = rng.chance(0.3) ? '' : `<item jid='${rng.pick(['spam@other.example', `nobody@${ctx.domain}`, 'other.example'])}'/>`;
    return iq(rng, 'set', null, `<${kind} xmlns='urn:xmpp:blocking'>${items}</${kind}>`);
  },
  last: (rng, ctx) => iq(rng, 'get', rng.pick([ctx.domain, rng.pick(ctx.peers)]), "<query xmlns='jabber:iq:last'/>"),
  version: (rng, ctx) => iq(rng, 'get', ctx.domain, "<query xmlns='jabber:iq:version'/>"),
  time: (rng, ctx) => iq(rng, 'get', ctx.domain, "<time xmlns='urn:xmpp:time'/>"),
  register: (rng, ctx) => rng.chance(0.5)
    ? iq(rng, 'get', null, "<query xmlns='jabber:iq:register'/>")
    // A password "change" to the same password: harmless, whatever else it exercises.
    : iq(rng, 'set', ctx.domain, `<query xmlns='jabber:iq:register'><username>${ctx.username}</username><password>${ctx.password}</password></query>`),
  session: (rng) => iq(rng, 'set', null, "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"),
  generic: (rng, _ctx, scope) => element(rng, scope, { maxDepth: 4, names: ['message', 'presence', 'iq', 'r', 'a'] }),
};

export const STANZA_KINDS = Object.keys(TEMPLATES);

/** One stanza of the given kind (any kind when omitted). */
export function stanza(rng: Rng, ctx: StanzaContext, scope: Scope, kind = rng.pick(STANZA_KINDS)): string {
  return TEMPLATES[kind]!(rng, ctx, scope);
}

export function saslPlain(username: string, password: string): string {
  return `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`;
}

export function bindRequest(rng: Rng, resource: string): string {
  return `<iq type='set' id='${id(rng)}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`;
}
