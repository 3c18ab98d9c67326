// XEP-0280 Message Carbons (urn:xmpp:carbons:2): a session that enables carbons gets a copy
// of what its account's other resources send and of what they receive.
//
// Everything happens on the node that handles the message: sent copies when its sender's
// stanza is routed, received copies once the delivery rules say which resources took it
// (message/delivered). Each copy goes to its resource wherever that is connected, so a
// session's choice must be visible on every node: enabling carbons sets the 'carbons' tag
// of the session's route (Kernel.setRouteTag), which the clustered routing table carries.
//
// Security (XEP-0280 section 11): a copy is trusted for coming from the account's bare JID.
// A client's own message carrying <sent/> or <received/> is refused with not-acceptable,
// so no client can hand another a copy it made up, whatever the recipient checks.
import type { XmppModule } from '../../extension/module-context.ts';
import { MESSAGE_DELIVERED, type MessageDeliveredEvent, type StanzaEvent } from '../../routing/stanza-event.ts';
import type { ClientSession } from '../../session/client-session.ts';
import type { SessionClosedEvent } from '../../session/session-manager.ts';
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { carbonCopy, type CarbonDirection } from './carbon-copy.ts';
import { NS_CARBONS, carbonWrapper, eligibleForCarbons } from './eligibility.ts';

/** The route tag of a session that enabled carbons. */
export const CARBONS_TAG = 'carbons';

const NOBODY: readonly string[] = [];

export const carbonsModule: XmppModule = {
  name: 'carbons',
  load(ctx) {
    const { kernel } = ctx;
    ctx.feature(NS_CARBONS);
    /** This node's sessions with carbons on, to clear their tags at unload. */
    const enabled = new Set<ClientSession>();
    /** Messages whose sender said <private/>: the element is removed before delivery (section 9). */
    const privateMessages = new WeakSet<Element>();

    // The session's own state is its module data; the route tag tells the other nodes.
    const isEnabled = (session: ClientSession): boolean => session.data.get(ctx.name) === true;
    const setEnabled = (session: ClientSession, on: boolean): void => {
      if (on) {
        session.data.set(ctx.name, true);
        enabled.add(session);
      } else {
        session.data.delete(ctx.name);
        enabled.delete(session);
      }
      kernel.setRouteTag(session, CARBONS_TAG, on);
    };

    ctx.iq('bare', 'set', NS_CARBONS, (req) => {
      const session = req.origin;
      if (!session || req.from.bareString() !== req.to.bareString()) {
        throw new StanzaError('forbidden', 'Carbons are enabled by a session for itself');
      }
      const name = req.payload.localName;
      if (name !== 'enable' && name !== 'disable') throw new StanzaError('bad-request', 'Expected <enable/> or <disable/>');
      // Enabling twice, or disabling what is off, is no error (XEP-0280 10.1).
      if (isEnabled(session) !== (name === 'enable')) setEnabled(session, name === 'enable');
    });
    ctx.hook<SessionClosedEvent>('session/closed', ({ session }) => { enabled.delete(session); });
    ctx.onUnload(() => {
      for (const session of [...enabled]) if (!session.closed) setEnabled(session, false);
      enabled.clear();
    });

    /**
     * The resources of `account` with carbons on, other than `sender` and `reached`; null for
     * none, which is the common case and is found before the message is looked at.
     */
    const enabledResources = (account: string, sender: string, reached: readonly string[]): string[] | null => {
      let found: string[] | null = null;
      for (const route of kernel.routes(account)) {
        if (route.tags?.includes(CARBONS_TAG) && route.jid !== sender && !reached.includes(route.jid)) (found ??= []).push(route.jid);
      }
      return found;
    };
    const copyTo = (direction: CarbonDirection, message: Element, account: string, targets: readonly string[]): void => {
      for (const jid of targets) {
        const result = kernel.deliverToFull(jid, carbonCopy(direction, message, account, jid));
        // A copy another node does not take is lost with its session; nothing to fall back to.
        if (result instanceof Promise) result.catch((err: unknown) => kernel.reportError('carbon copy to another node failed', err));
      }
    };

    // What a client sends, after blocking and the roster have had their say (priority 0, -10).
    ctx.hook<StanzaEvent>('stanza/pre-route', (ev) => {
      const message = ev.stanza;
      if (!ev.origin || message.name !== 'message') return false;
      if (carbonWrapper(message)) {
        kernel.bounce(message, new StanzaError('not-acceptable', 'Carbon copies are made by the server only'));
        return true;
      }
      const privately = message.getChild('private', NS_CARBONS);
      if (privately) {
        message.remove(privately);
        privateMessages.add(message);
        return false;
      }
      const account = ev.from.bareString();
      // A message to the account itself is copied once, as received, to the resources it skips.
      if (ev.to.bareString() === account) return false;
      const targets = enabledResources(account, ev.from.toString(), NOBODY);
      if (targets && eligibleForCarbons(message)) copyTo('sent', message, account, targets);
      return false;
    }, -20);

    // What an account of ours receives: copies go to its resources the message did not reach.
    ctx.hook<MessageDeliveredEvent>(MESSAGE_DELIVERED, (ev) => {
      const message = ev.stanza;
      const account = ev.to.bareString();
      const targets = enabledResources(account, ev.from.toString(), ev.recipients);
      if (targets && !privateMessages.has(message) && eligibleForCarbons(message)) copyTo('received', message, account, targets);
      return false;
    });
  },
};
