// Service Discovery (XEP-0030) of the server and of accounts. Features and identities are
// registered by every module into the kernel's DiscoRegistry; this module only answers.
//
// An account's disco#info tells whether it exists, so it is answered only to the account
// itself and to contacts with a presence subscription to it (as Prosody does); anyone else
// gets service-unavailable, the same answer as for an account that does not exist.
import { xml, type Element } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import type { IqRequest, XmppModule } from '../extension/module-context.ts';
import { maySeePresence } from './presence-access.ts';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/** No node is published yet: any node is unknown (XEP-0030 3.1: item-not-found). */
function refuseNode(req: IqRequest): void {
  if (req.payload.attrs.node !== undefined) throw new StanzaError('item-not-found', 'No such node');
}

export const discoModule: XmppModule = {
  name: 'disco',
  storage: ['roster'],
  load(ctx) {
    const disco = ctx.discoView;
    const rosters = ctx.repository('roster');
    ctx.feature(NS_DISCO_INFO, { host: true, account: true });
    ctx.feature(NS_DISCO_ITEMS, { host: true, account: true });

    const info = (identities: readonly { category: string; type: string; name?: string }[], features: string[]): Element => {
      const query = xml('query', { xmlns: NS_DISCO_INFO });
      for (const id of identities) query.c('identity', { category: id.category, type: id.type, name: id.name });
      for (const f of features) query.c('feature', { var: f });
      return query;
    };

    const authorize = async (req: IqRequest): Promise<void> => {
      if (!(await maySeePresence(rosters, req.to, req.from))) throw new StanzaError('service-unavailable');
    };

    ctx.iq('host', 'get', NS_DISCO_INFO, (req) => {
      refuseNode(req);
      return info(disco.hostIdentities(), disco.features('host'));
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
      await authorize(req);
      refuseNode(req);
      return xml('query', { xmlns: NS_DISCO_ITEMS });
    });
  },
};
