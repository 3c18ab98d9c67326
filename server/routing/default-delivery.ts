// The delivery rules of RFC 6121 section 8.5, registered at DEFAULT_PRIORITY so that
// modules (presence, offline, blocking ...) can act before them.
import type { EventBus } from '../events/event-bus.ts';
import type { RouteEntry } from './routing-table.ts';
import type { Router } from './router.ts';
import type { SessionManager } from '../session/session-manager.ts';
import { StanzaError } from '../xml/errors.ts';
import { KeyedQueue } from '../util/keyed-queue.ts';
import { RouteHold } from './route-hold.ts';
import { DEFAULT_PRIORITY, MESSAGE_DELIVERED, type MessageDeliveredEvent, type StanzaEvent } from './stanza-event.ts';

export interface DeliveryDeps {
  events: EventBus;
  router: Router;
  sessions: SessionManager;
  /** Whether the account exists (a storage lookup; only asked when no session is online). */
  userExists(username: string): Promise<boolean>;
}

/** Resources that may receive a message to the bare JID: available, non-negative priority. */
function deliverable(routes: readonly RouteEntry[]): RouteEntry[] {
  return routes.filter((r) => r.available && r.priority >= 0);
}

/**
 * Registers the rules; returns the hold where messages for an account briefly without a
 * route wait for it (RouteHold: the clustering plugin says which accounts, Kernel.expectRoutes).
 */
export function registerDefaultDelivery(deps: DeliveryDeps): RouteHold {
  const { events, router, sessions } = deps;
  const hold = new RouteHold((bare) => deliverable(sessions.routingTable.getRoutes(bare)).length > 0);

  // Messages to one account keep their order even when one of them waits for a storage
  // lookup: later ones queue behind it (idle accounts run synchronously, at no cost).
  const order = new KeyedQueue((err) => router.reportError('message delivery failed', err));

  /** Tells the modules that follow delivery (carbons, archives) where a message went. */
  const delivered = (ev: StanzaEvent, recipients: readonly string[]): void => {
    events.fire<MessageDeliveredEvent>(MESSAGE_DELIVERED, { stanza: ev.stanza, from: ev.from, to: ev.to, origin: ev.origin, recipients });
  };

  const existsThen = (ev: StanzaEvent, onMissing: () => void, onExists: () => void): void | Promise<void> => {
    if (sessions.routingTable.getRoutes(ev.to.bareString()).length) {
      onExists();
      return;
    }
    return deps.userExists(ev.to.local).then((exists) => (exists ? onExists() : onMissing()),
      (err) => {
        router.reportError('user lookup failed', err);
        router.bounce(ev.stanza, new StanzaError('internal-server-error'));
      });
  };

  /**
   * RFC 6121 8.5.2: a message to a bare JID. `failedAt` is set on a second try, when the
   * first failed: MESSAGE_DELIVERED went out for it already (it must not be archived or
   * copied again).
   */
  const deliverToBare = (ev: StanzaEvent, type: string, failedAt = 0): void | Promise<void> => {
    const reported = failedAt > 0;
    const bare = ev.to.bareString();
    const targets = deliverable(sessions.routingTable.getRoutes(bare));
    // The account's node is out of the cluster for a moment: wait for its route rather than
    // store offline a message its user, still online, would only get at the next login.
    const held = hold.wait(bare, targets.length === 0);
    if (held) {
      void held.then(() => order.run(bare, () => deliverToBare(ev, type, failedAt)));
      return;
    }
    if (targets.length) {
      if (type === 'groupchat') {
        router.bounce(ev.stanza, new StanzaError('service-unavailable'));
        return;
      }
      // chat/normal go to the highest-priority resources, headline to all (8.5.2.1.1).
      const chosen = type === 'headline' ? targets : highest(targets);
      if (!reported) delivered(ev, chosen.map((r) => r.jid));
      let taken = false;
      let remote: Promise<boolean>[] | null = null;
      for (const r of chosen) {
        const result = router.deliverToFull(r.jid, ev.stanza);
        if (result === true) taken = true;
        else if (result !== false) (remote ??= []).push(result);
      }
      // A message no chosen resource took is tried again shortly (RouteHold.retry: while the
      // clustering plugin expects the account's routes back, as when the link to its node is
      // being replaced, or for a second after the first failure), then (its node died before
      // the cluster noticed, say) kept offline rather than lost; neither holds up the
      // account's next messages. It was reported as delivered to the chosen resources
      // already, so not again.
      if (type !== 'headline' && !taken) {
        settleAll(remote ?? [], () => {
          const firstFailure = failedAt || Date.now();
          const again = hold.retry(bare, firstFailure);
          if (again) void again.then(() => order.run(bare, () => deliverToBare(ev, type, firstFailure)));
          else storeOffline(ev, false);
        }, router);
      }
      return;
    }
    return existsThen(ev, () => {
      if (type !== 'headline') router.bounce(ev.stanza, new StanzaError('service-unavailable'));
    }, () => {
      if (type === 'groupchat') router.bounce(ev.stanza, new StanzaError('service-unavailable'));
      else if (type !== 'headline') storeOffline(ev, !reported);
    });
  };

  const storeOffline = (ev: StanzaEvent, report = true): void => {
    if (!events.fire('message/offline', ev)) router.bounce(ev.stanza, new StanzaError('service-unavailable'));
    else if (report) delivered(ev, []);
  };

  const messageToBare = (ev: StanzaEvent): boolean => {
    const type = ev.stanza.attrs.type ?? 'normal';
    if (type === 'error') return true; // never answer an error with an error
    order.run(ev.to.bareString(), () => deliverToBare(ev, type));
    return true;
  };
  events.on('message/bare', messageToBare, DEFAULT_PRIORITY);

  /**
   * RFC 6121 8.5.3.2.1, a normal message to a full JID nobody holds: it must not go to the
   * account's other resources (only chat falls back to the bare JID). While one of them
   * would take a message to the bare JID, the sender gets service-unavailable and can send
   * there himself; with none, the message is kept offline as one to the bare JID would be
   * (stored if worth storing, an error for an account that does not exist), which is what
   * Prosody and ejabberd do for an account with no resource online.
   */
  const normalToAbsentResource = (ev: StanzaEvent): void => {
    const bare = ev.to.bare();
    order.run(bare.toString(), () => {
      if (deliverable(sessions.routingTable.getRoutes(bare.toString())).length) {
        router.bounce(ev.stanza, new StanzaError('service-unavailable', 'That resource is not online'));
        return;
      }
      return deliverToBare({ ...ev, to: bare }, 'normal');
    });
  };

  /** RFC 6121 8.5.3: a message to a full JID; only chat falls back to the bare JID. */
  events.on<StanzaEvent>('message/full', (ev) => {
    const to = ev.to.toString();
    const result = router.deliverToFull(to, ev.stanza);
    if (result === true) {
      delivered(ev, [to]);
      return true;
    }
    // The fallback closure is only built when needed: this runs once per routed message.
    const type = ev.stanza.attrs.type ?? 'normal';
    // Another node's answer comes later; only a delivery it confirms is reported, since one it
    // refuses falls back below and is reported there.
    if (result !== false) void result.then((ok) => { if (ok) delivered(ev, [to]); }, () => undefined);
    settle(result, () => {
      if (type === 'error' || type === 'headline') return;
      if (type === 'groupchat') router.bounce(ev.stanza, new StanzaError('service-unavailable'));
      else if (type === 'chat') messageToBare({ ...ev, to: ev.to.bare() });
      else normalToAbsentResource(ev);
    }, router);
    return true;
  }, DEFAULT_PRIORITY);

  /** RFC 6121 8.5.3.2.3: an IQ to a full JID with no session gets service-unavailable. */
  events.on<StanzaEvent>('iq/full', (ev) => {
    const delivered = router.deliverToFull(ev.to.toString(), ev.stanza);
    if (delivered === true) return true;
    const type = ev.stanza.attrs.type;
    settle(delivered, () => {
      if (type === 'get' || type === 'set') router.bounce(ev.stanza, new StanzaError('service-unavailable'));
    }, router);
    return true;
  }, DEFAULT_PRIORITY);

  /** Presence to a full JID with no session is dropped (8.5.3.2.2). */
  events.on<StanzaEvent>('presence/full', (ev) => {
    void router.deliverToFull(ev.to.toString(), ev.stanza);
    return true;
  }, DEFAULT_PRIORITY);

  // A message to the server itself that no module wants is answered per 8.5.1 only for
  // types that expect an answer; IQ results to accounts are delivered nowhere.
  events.on<StanzaEvent>('message/host', (ev) => {
    const type = ev.stanza.attrs.type ?? 'normal';
    if (type === 'chat' || type === 'normal') router.bounce(ev.stanza, new StanzaError('service-unavailable'));
    return true;
  }, DEFAULT_PRIORITY);
  return hold;
}

function highest(routes: RouteEntry[]): RouteEntry[] {
  let max = -Infinity;
  for (const r of routes) if (r.priority > max) max = r.priority;
  return routes.filter((r) => r.priority === max);
}

/** Runs `onMissing` once every pending delivery is known and none was taken. */
function settleAll(pending: Promise<boolean>[], onMissing: () => void, router: Router): void {
  if (!pending.length) {
    onMissing();
    return;
  }
  Promise.all(pending).then((oks) => { if (!oks.includes(true)) onMissing(); }, (err) => {
    router.reportError('remote delivery failed', err);
    onMissing();
  });
}

function settle(result: boolean | Promise<boolean>, onMissing: () => void, router: Router): void {
  if (result === true) return;
  if (result === false) {
    onMissing();
    return;
  }
  result.then((ok) => { if (!ok) onMissing(); }, (err) => {
    router.reportError('remote delivery failed', err);
    onMissing();
  });
}
