// Presence (RFC 6121 section 4): broadcast to subscribed contacts and the account's own
// resources, probes, directed presence, and unavailable presence for sessions that end.
// Rosters come from the roster module's store; subscriptions are the roster module's too.
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { SessionClosedEvent } from '../../session/session-manager.ts';
import type { XmppModule } from '../../extension/module-context.ts';
import type { RosterApi } from '../roster/index.ts';
import { CLUSTER_JOINED, SESSIONS_RESTORED, SESSION_LOST, type ClusterJoinedEvent, type SessionLostEvent } from '../../cluster/cluster-events.ts';
import { onBroadcast, onClusterJoined, onSessionClosed, onSessionLost } from './broadcast.ts';
import { trackDirected } from './directed-presence.ts';
import { answerProbe, onPresenceToAccount } from './inbound-presence.ts';
import type { PresenceDeps } from './presence-deps.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import { StanzaError } from '../../xml/errors.ts';

export const PRESENCE_PROPERTIES = {
  maxDirected: {
    name: 'xmpp.presence.max-directed',
    type: 'integer',
    default: 1000,
    min: 1,
    max: 1000000,
    description: 'Addresses one session may have sent directed available presence to (each is told when the session ends); presence to one more is refused with <resource-constraint/>',
    live: true,
  } satisfies PropertyDefinition<number>,
};

export const presenceModule: XmppModule = {
  name: 'presence',
  properties: Object.values(PRESENCE_PROPERTIES),
  depends: ['roster'],
  load(ctx) {
    const maxDirected = ctx.property<number>(PRESENCE_PROPERTIES.maxDirected);
    const deps: PresenceDeps = { kernel: ctx.kernel, store: ctx.dependency<RosterApi>('roster').store, log: ctx.log };

    ctx.hook<StanzaEvent>('presence/broadcast', (ev) => {
      if (ev.origin) onBroadcast(deps, ev.origin, ev.stanza);
      return true;
    });
    // Seen before routing, so that directed presence to any address is remembered.
    ctx.hook<StanzaEvent>('stanza/pre-route', (ev) => {
      if (trackDirected(ev, maxDirected.value)) return false;
      ctx.kernel.bounce(ev.stanza, new StanzaError('resource-constraint', `A session may send directed presence to at most ${maxDirected.value} addresses`));
      return true;
    }, -10);
    ctx.hook<StanzaEvent>('presence/bare', (ev) => onPresenceToAccount(deps, ev));
    // To a full JID, presence is delivered by the kernel; a probe is answered for the account (8.5.3.1).
    ctx.hook<StanzaEvent>('presence/full', (ev) => {
      if (ev.stanza.attrs.type !== 'probe') return false;
      answerProbe(deps, { ...ev, to: ev.to.bare() });
      return true;
    });
    ctx.hook<SessionClosedEvent>('session/closed', ({ session }) => onSessionClosed(deps, session));
    // Directed presence of a lost session is not known here; only its broadcast is undone.
    ctx.hook<SessionLostEvent>(SESSION_LOST, ({ jid, available }) => onSessionLost(deps, jid, available));
    ctx.hook<ClusterJoinedEvent>(CLUSTER_JOINED, ({ sessions }) => onClusterJoined(deps, sessions));
    ctx.hook<ClusterJoinedEvent>(SESSIONS_RESTORED, ({ sessions }) => onClusterJoined(deps, sessions));
  },
};
