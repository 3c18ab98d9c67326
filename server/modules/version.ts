// Software Version (XEP-0092) of the server. The operating system is left out unless an
// operator asks for it: it tells an attacker which exploits to try and a user nothing.
import { release, type } from 'node:os';
import type { PropertyDefinition } from '../properties/types.ts';
import { xml } from '../xml/element.ts';
import type { XmppModule } from '../extension/module-context.ts';

const NS_VERSION = 'jabber:iq:version';

export const VERSION_PROPERTIES = {
  showOs: {
    name: 'xmpp.version.show-os',
    type: 'boolean',
    default: false,
    description: 'Include the operating system in software version answers (XEP-0092)',
    live: true,
  } satisfies PropertyDefinition<boolean>,
};

export const versionModule: XmppModule = {
  name: 'version',
  properties: Object.values(VERSION_PROPERTIES),
  load(ctx) {
    const showOs = ctx.property<boolean>(VERSION_PROPERTIES.showOs);
    ctx.feature(NS_VERSION);
    ctx.iq('host', 'get', NS_VERSION, () => xml('query', { xmlns: NS_VERSION },
      xml('name', null, 'xmppd'),
      xml('version', null, ctx.kernel.version),
      showOs.value ? xml('os', null, `${type()} ${release()}`) : undefined));
  },
};
