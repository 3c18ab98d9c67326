// Last Activity (XEP-0012). To the server: its uptime. To an account: 0 while it has an
// available resource, else the seconds since its last session ended and the status of its
// last unavailable presence, recorded in storage when that session closes. Only those who
// may see the account's presence get an answer (XEP-0012 section 4); others, forbidden.
import type { StanzaEvent } from '../routing/stanza-event.ts';
import type { SessionClosedEvent } from '../session/session-manager.ts';
import { xml } from '../xml/element.ts';
import { StanzaError } from '../xml/errors.ts';
import type { XmppModule } from '../extension/module-context.ts';
import { maySeePresence } from './presence-access.ts';

const NS_LAST = 'jabber:iq:last';
/** Key in ClientSession.data: status text of the session's last unavailable presence. */
const STATUS = 'last';

function seconds(since: number): string {
  return String(Math.max(0, Math.floor((Date.now() - since) / 1000)));
}

export const lastModule: XmppModule = {
  name: 'last',
  storage: ['roster', 'users', 'lastActivity'],
  load(ctx) {
    const { kernel } = ctx;
    const rosters = ctx.repository('roster');
    const users = ctx.repository('users');
    const lastActivity = ctx.repository('lastActivity');
    const startedAt = Date.now();
    ctx.feature(NS_LAST, { host: true, account: true });

    ctx.iq('host', 'get', NS_LAST, () => xml('query', { xmlns: NS_LAST, seconds: seconds(startedAt) }));

    ctx.iq('bare', 'get', NS_LAST, async (req) => {
      if (!(await maySeePresence(rosters, req.to, req.from))) {
        throw new StanzaError('forbidden', 'Only contacts subscribed to the presence of this account may ask');
      }
      if (kernel.routes(req.to.bareString()).some((r) => r.available)) {
        return xml('query', { xmlns: NS_LAST, seconds: '0' });
      }
      const last = await lastActivity.get(req.to.local);
      if (!last) throw new StanzaError('item-not-found', 'No recorded activity');
      return xml('query', { xmlns: NS_LAST, seconds: seconds(last.at.getTime()) }, last.status || undefined);
    });

    // Observes (does not take) the client's own unavailable presence, for its status text.
    ctx.hook<StanzaEvent>('presence/broadcast', (ev) => {
      if (ev.origin && ev.stanza.attrs.type === 'unavailable') ev.origin.data.set(STATUS, ev.stanza.getChildText('status') ?? '');
    }, 100);

    ctx.hook<SessionClosedEvent>('session/closed', ({ session }) => {
      if (kernel.routes(session.jid.bareString()).length) return;
      const username = session.jid.local;
      const status = session.data.get(STATUS);
      const record = { at: new Date(), status: typeof status === 'string' ? status : '' };
      // A session also closes when its account was just deleted: leave no row behind then.
      users.exists(username).then((exists) => (exists ? lastActivity.set(username, record) : undefined))
        .catch((err) => ctx.log.error('recording last activity failed', { user: username, error: err instanceof Error ? err.message : String(err) }));
    });
  },
};
