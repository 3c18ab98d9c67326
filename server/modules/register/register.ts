// In-Band Registration (XEP-0077). Before authentication, when the operator enables it
// (xmpp.register.inband.enabled, live): account creation, bounded per IP address
// (xmpp.register.inband.max-per-ip per xmpp.register.inband.window). After authentication,
// always: password change (3.3) and account removal (3.2).
//
// Error replies here never echo the request: it holds a password (XEP-0077 3.3).
import { SaslPrepError, deriveUserKeys, saslPrep } from '../../auth/scram-keys.ts';
import { prepareLocal } from '../../jid/prep.ts';
import type { PropertyDefinition } from '../../properties/types.ts';
import { AccountDeletionPendingError, UserExistsError } from '../../storage/types.ts';
import type { PreauthIqEvent } from '../../stream/client-stream.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError, errorReply } from '../../xml/errors.ts';
import type { IqRequest, XmppModule } from '../../extension/module-context.ts';
import { RateLimit } from './rate-limit.ts';

const NS_REGISTER = 'jabber:iq:register';
const NS_FEATURE = 'http://jabber.org/features/iq-register';
/** How often addresses with no attempt left in the window are forgotten (memory only). */
const SWEEP_MS = 60_000;

export const REGISTER_PROPERTIES = {
  maxPerIp: {
    name: 'xmpp.register.inband.max-per-ip',
    type: 'integer',
    default: 3,
    min: 1,
    max: 10000,
    description: 'Accounts one IP address may try to create in-band (XEP-0077) within xmpp.register.inband.window; more get <resource-constraint/>',
    live: true,
  } satisfies PropertyDefinition<number>,
  enabled: {
    name: 'xmpp.register.inband.enabled',
    type: 'boolean',
    default: false,
    description: 'Let anyone create an account from a client (XEP-0077 in-band registration)',
    live: true,
  } satisfies PropertyDefinition<boolean>,
  window: {
    name: 'xmpp.register.inband.window',
    type: 'duration',
    default: 60,
    min: 1,
    max: 86400,
    description: 'Seconds over which in-band account creations from one IP address are counted against xmpp.register.inband.max-per-ip',
    live: true,
  } satisfies PropertyDefinition<number>,
};

/** The password of a request, checked; throws not-acceptable as XEP-0077 asks for empty ones. */
function passwordOf(query: Element): string {
  const password = query.getChildText('password');
  if (password === undefined || password === '') throw new StanzaError('not-acceptable', 'A password is required');
  try {
    saslPrep(password);
  } catch (err) {
    if (err instanceof SaslPrepError) throw new StanzaError('not-acceptable', 'The password contains characters that are not allowed');
    throw err;
  }
  return password;
}

/** The IQ without its payload, so that an error reply built from it cannot echo a password. */
function withoutPayload(iq: Element): Element {
  return xml('iq', { ...iq.attrs });
}

export const registerModule: XmppModule = {
  name: 'register',
  properties: Object.values(REGISTER_PROPERTIES),
  storage: ['users'],
  load(ctx) {
    const { kernel, domain } = ctx;
    const users = ctx.repository('users');
    const enabled = ctx.property<boolean>(REGISTER_PROPERTIES.enabled);
    const scramIterations = (): number => ctx.readProperty<number>('xmpp.auth.scram.iterations');
    const maxPerIp = ctx.property<number>(REGISTER_PROPERTIES.maxPerIp);
    const windowSeconds = ctx.property<number>(REGISTER_PROPERTIES.window);
    const limit = new RateLimit(() => windowSeconds.value * 1000);
    ctx.every(SWEEP_MS, () => limit.sweep());

    ctx.feature(NS_REGISTER);
    ctx.streamFeature((features, stream) => {
      if (!stream.authenticated && enabled.value) features.append(xml('register', { xmlns: NS_FEATURE }));
    });

    // ---- before authentication: account creation ------------------------------------

    const form = (): Element => xml('query', { xmlns: NS_REGISTER },
      xml('instructions', null, 'Choose a username and password to create an account on this server.'),
      xml('username'),
      xml('password'));

    const create = async (ev: PreauthIqEvent, query: Element): Promise<void> => {
      if (query.getChild('remove')) throw new StanzaError('unexpected-request', 'Log in to remove your account');
      if (!ev.secure && !kernel.plaintextAuthAllowed) throw new StanzaError('not-authorized', 'Use STARTTLS before sending a password');
      const raw = query.getChildText('username');
      if (raw === undefined || raw === '') throw new StanzaError('not-acceptable', 'A username is required');
      const username = prepareLocal(raw);
      if (username === null) throw new StanzaError('not-acceptable', 'The username contains characters that are not allowed');
      const password = passwordOf(query);
      if (!limit.take(ev.remoteAddress, maxPerIp.value)) {
        throw new StanzaError('resource-constraint', 'Too many accounts were created from your address; try again later');
      }
      try {
        await users.create(username, await deriveUserKeys(password, scramIterations()));
      } catch (err) {
        // A name whose deletion is still being finished is taken for a moment longer.
        if (err instanceof UserExistsError || err instanceof AccountDeletionPendingError) throw new StanzaError('conflict', 'That username is taken');
        throw err;
      }
      ctx.log.info('account created in-band', { user: username, address: ev.remoteAddress });
    };

    ctx.hook<PreauthIqEvent>('stream/preauth-iq', (ev) => {
      const iq = ev.stanza;
      const query = iq.getChildElements()[0];
      if (!query || query.getNS() !== NS_REGISTER || !query.is('query')) return false; // the stream refuses it
      const type = iq.attrs.type;
      if (type !== 'get' && type !== 'set') return true; // a result or error answers nothing of ours
      const run = async (): Promise<Element | undefined> => {
        // XEP-0077 3.1: a host without in-band registration answers service-unavailable.
        if (!enabled.value) throw new StanzaError('service-unavailable', 'In-band registration is disabled');
        if (type === 'get') return form();
        await create(ev, query);
        return undefined;
      };
      run().then((result) => ev.reply(xml('iq', { type: 'result', id: iq.attrs.id }, result)), (err) => {
        if (!(err instanceof StanzaError)) {
          ctx.log.error('in-band registration failed', { error: err instanceof Error ? err.stack : String(err) });
          err = new StanzaError('internal-server-error');
        }
        ev.reply(errorReply(withoutPayload(iq), err as StanzaError));
      });
      return true;
    });

    // ---- after authentication: password change and removal -------------------------

    /** The account an IQ may act on: the sender's own, addressed to the server or to itself. */
    const ownAccount = (req: IqRequest): string => {
      const local = req.from.local !== '' && req.from.domain === domain;
      if (!local || (!req.to.isDomain && req.to.bareString() !== req.from.bareString())) {
        throw new StanzaError('forbidden', 'Only your own account can be changed');
      }
      return req.from.local;
    };

    const registered = (req: IqRequest): Element => xml('query', { xmlns: NS_REGISTER },
      xml('registered'),
      xml('username', null, ownAccount(req)));

    /**
     * XEP-0077 3.2: the account goes with everything it owns; right after the result has
     * been written its sessions end with not-authorized, and its subscriptions are cancelled
     * (the roster module's deletion handler), as for any deletion.
     */
    const remove = async (username: string): Promise<void> => {
      if (!(await kernel.deleteAccount(username))) throw new StanzaError('registration-required', 'No such account');
      ctx.log.info('account removed in-band', { user: username });
    };

    /** XEP-0077 3.3. */
    const changePassword = async (req: IqRequest, username: string): Promise<void> => {
      const claimed = req.payload.getChildText('username');
      if (claimed === undefined || req.payload.getChild('password') === undefined) {
        throw new StanzaError('bad-request', 'A password change needs <username/> and <password/>');
      }
      if (prepareLocal(claimed) !== username) throw new StanzaError('forbidden', 'You can only change your own password');
      const password = passwordOf(req.payload);
      const secure = req.origin?.secure ?? false;
      if (!secure && !kernel.plaintextAuthAllowed) throw new StanzaError('not-authorized', 'Use an encrypted connection to change your password');
      if (!(await users.setKeys(username, await deriveUserKeys(password, scramIterations())))) {
        throw new StanzaError('registration-required', 'No such account');
      }
      ctx.log.info('password changed in-band', { user: username });
    };

    const set = async (req: IqRequest): Promise<void> => {
      const username = ownAccount(req);
      const query = req.payload;
      // The wrapper's error reply copies the request's children: drop them, they may hold a password.
      req.stanza.children = [];
      if (query.getChild('remove')) {
        if (query.getChildElements().length !== 1) throw new StanzaError('bad-request', '<remove/> must be alone');
        await remove(username);
        return;
      }
      await changePassword(req, username);
    };

    for (const target of ['host', 'bare'] as const) {
      ctx.iq(target, 'get', NS_REGISTER, registered);
      ctx.iq(target, 'set', NS_REGISTER, set);
    }
  },
};
