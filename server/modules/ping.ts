// XMPP Ping (XEP-0199): the server answers pings addressed to it, which clients use to
// check that the connection is alive.
import type { XmppModule } from '../extension/module-context.ts';

const NS_PING = 'urn:xmpp:ping';

export const pingModule: XmppModule = {
  name: 'ping',
  load(ctx) {
    ctx.feature(NS_PING);
    ctx.iq('host', 'get', NS_PING, () => undefined);
  },
};
