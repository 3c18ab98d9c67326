// Service Discovery (XEP-0030) of the server and of accounts. Features and identities are
// registered by every module into the kernel's DiscoRegistry; this module only answers.
//
// An account's disco#info tells whether it exists, so it is answered only to the account
// itself and to contacts with a presence subscription to it (as Prosody does); anyone else
// gets service-unavailable, the same answer as for an account that does not exist. Its
// disco#items is answered to anyone: XEP-0030 section 8 has an entity return an empty
// result rather than an error for items the requester may not see, and an empty list is
// what an account that does not exist answers too.
//
// The server's own info carries the XEP-0157 contact addresses as an extended form, and its
// XEP-0115 caps hash is announced in the stream features; the info is built again only when
// a module adds or removes a feature or identity or a contact address changes, and is
// answered for the caps node '<node>#<ver>' too (the ver of the moment; an older one is
// item-not-found, as for any unknown node).
import { xml, type Element } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import type { IqRequest, XmppModule } from '../extension/module-context.ts';
import type { Property } from '../properties/types.ts';
import { NS_CAPS, capsVer } from './caps-hash.ts';
import { CONTACT_PROPERTIES, contactForm } from './contact-addresses.ts';
import { maySeePresence } from './presence-access.ts';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
/** The caps node naming this software (XEP-0115 wants a URI; the project has no web site of its own). */
export const CAPS_NODE = 'urn:x-xmppd:caps';

/** No node is published yet: any node is unknown (XEP-0030 3.1: item-not-found). */
function refuseNode(req: IqRequest): void {
  if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found', 'No such node');
}

export const discoModule: XmppModule = {
  name: 'disco',
  properties: Object.values(CONTACT_PROPERTIES),
  storage: ['roster'],
  load(ctx) {
    const disco = ctx.discoView;
    const rosters = ctx.repository('roster');
    const contacts = Object.fromEntries(Object.entries(CONTACT_PROPERTIES).map(([kind, def]) => [kind, ctx.property<string>(def)])) as
      Record<keyof typeof CONTACT_PROPERTIES, Property<string>>;
    ctx.feature(NS_DISCO_INFO, { host: true, account: true });
    ctx.feature(NS_DISCO_ITEMS, { host: true, account: true });
    ctx.feature(NS_CAPS);

    const info = (identities: readonly { category: string; type: string; name?: string }[], features: string[]): Element => {
      const query = xml('query', { xmlns: NS_DISCO_INFO });
      for (const id of identities) query.c('identity', { category: id.category, type: id.type, name: id.name });
      for (const f of features) query.c('feature', { var: f });
      return query;
    };

    const authorize = async (req: IqRequest): Promise<void> => {
      if (!(await maySeePresence(rosters, req.to, req.from))) throw new StanzaError('service-unavailable');
    };

    /**
     * The server's info and its caps ver, built again when what goes into them changed. The
     * ver is null while the info breaks XEP-0115 5.4 (two plugins adding one identity, say):
     * no caps are announced rather than ones no client could verify.
     */
    let host: { key: string; query: Element; ver: string | null } | null = null;
    const hostInfo = (): { query: Element; ver: string | null } => {
      const values = Object.fromEntries(Object.entries(contacts).map(([kind, p]) => [kind, p.value])) as Record<keyof typeof contacts, string>;
      const key = `${disco.revision}\n${Object.values(values).join('\n')}`;
      if (host?.key !== key) {
        const query = info(disco.hostIdentities(), disco.features('host'));
        const form = contactForm(values);
        if (form) query.append(form);
        host = { key, query, ver: capsVer(query) };
      }
      return host;
    };

    ctx.streamFeature((features) => {
      const { ver } = hostInfo();
      if (ver !== null) features.append(xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver }));
    });
    ctx.iq('host', 'get', NS_DISCO_INFO, (req) => {
      const node = req.payload.attrs.node;
      const { query, ver } = hostInfo();
      if (node !== undefined && (ver === null || node !== `${CAPS_NODE}#${ver}`)) throw new StanzaError('item-not-found', 'No such node');
      const answer = query.clone();
      if (node !== undefined) answer.attrs.node = node;
      return answer;
    });
    ctx.iq('host', 'get', NS_DISCO_ITEMS, (req) => {
      refuseNode(req);
      return xml('query', { xmlns: NS_DISCO_ITEMS }, ...disco.hostItems().map((i) => xml('item', { jid: i.jid, name: i.name })));
    });
    ctx.iq('bare', 'get', NS_DISCO_INFO, async (req) => {
      await authorize(req);
      refuseNode(req);
      return info([{ category: 'account', type: 'registered' }, ...disco.accountIdentities()], disco.features('account'));
    });
    ctx.iq('bare', 'get', NS_DISCO_ITEMS, async (req) => {
      const empty = xml('query', { xmlns: NS_DISCO_ITEMS, node: req.payload.attrs.node });
      if (!(await maySeePresence(rosters, req.to, req.from))) return empty;
      refuseNode(req);
      return empty;
    });
  },
};
