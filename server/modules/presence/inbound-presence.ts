// Presence arriving for one of our accounts at its bare JID (RFC 6121 8.5.2.1.2): available
// and unavailable presence goes to every available resource, probes are answered by the
// server (4.3.2). Subscription stanzas are the roster module's.
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import { xml } from '../../xml/element.ts';
import { deliverToAvailable, sendPresenceOf } from '../roster/resources.ts';
import { hasFrom } from '../roster/roster-item.ts';
import type { PresenceDeps } from './presence-deps.ts';

/** Returns true if it took the stanza. */
export function onPresenceToAccount(d: PresenceDeps, ev: StanzaEvent): boolean {
  switch (ev.stanza.attrs.type) {
    case undefined:
    case 'unavailable': {
      // Behind any subscription change still being processed for the account, so that a
      // contact's presence does not overtake the approval that allows it.
      const to = ev.to.toString();
      d.store.queue.run(ev.to.local, () => { deliverToAvailable(d.kernel, to, ev.stanza); });
      return true;
    }
    case 'probe':
      answerProbe(d, ev);
      return true;
    case 'error':
      // No resource asked for anything at the bare JID: nobody to hand it to.
      return true;
    default:
      return false;
  }
}

/**
 * 4.3.2: a subscribed contact (or the account itself) gets the presence of each available
 * resource, or unavailable presence when there is none; anyone else gets unsubscribed,
 * whether the account is online or not, so that a stale roster is corrected and
 * availability is never told to a non-subscriber. A probe to an account that does not
 * exist gets the same answer (8.5.1 allows it), so the answer does not tell which accounts
 * exist. For an account with no session this costs one indexed roster read per probe.
 */
export function answerProbe(d: PresenceDeps, ev: StanzaEvent): void {
  const { kernel, store } = d;
  const user = ev.to.bare();
  const prober = ev.from;
  store.queue.run(user.local, async () => {
    if (prober.bareString() !== user.toString() && !hasFrom(await store.get(user.local, prober.bareString()))) {
      kernel.route(xml('presence', { xmlns: 'jabber:client', type: 'unsubscribed', from: user.toString(), to: prober.bareString() }), user);
      return;
    }
    // An account whose node is out of the cluster for a moment is most likely online: its
    // presence comes when the node is back (cluster/joined); unavailable now would be wrong.
    if (sendPresenceOf(kernel, user, prober.toString()) === 0 && !kernel.routesExpected(user.toString())) {
      kernel.route(xml('presence', { xmlns: 'jabber:client', type: 'unavailable', from: user.toString(), to: prober.toString() }), user);
    }
  });
}
