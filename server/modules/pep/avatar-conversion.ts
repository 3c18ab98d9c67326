// User Avatar to vCard-Based Avatars Conversion (XEP-0398): an avatar published in PEP
// (XEP-0084) becomes the vCard's PHOTO, a vCard stored with a PHOTO is published as an
// avatar, and the server puts the avatar's hash in the presence its users broadcast
// (XEP-0153 `<x xmlns='vcard-temp:x:update'><photo/>`), so that clients that only know
// vCard avatars (and chat rooms) see the PEP one.
//
// The hash of each user with a session here is kept in memory, read once when a session
// binds: presence is on the per-stanza path. A change is announced again in the presence of
// the user's available resources, here and (through a cluster event) on the other nodes.
import type { XmppModule } from '../../extension/module-context.ts';
import type { StanzaEvent } from '../../routing/stanza-event.ts';
import type { SessionEvent } from '../../session/session-manager.ts';
import { xml, type Element } from '../../xml/element.ts';
import { parseXml } from '../../xml/stream-parser.ts';
import { VCARD_STORED, type VcardStoredEvent } from '../vcard.ts';
import { avatarHash, vcardPhoto, type VcardPhoto } from '../vcard-photo.ts';
import type { PepApi } from './pep-api.ts';
import { PEP_PUBLISHED, type PepPublishedEvent } from './pep-deps.ts';

const NS_DATA = 'urn:xmpp:avatar:data';
const NS_METADATA = 'urn:xmpp:avatar:metadata';
const NS_VCARD = 'vcard-temp';
const NS_UPDATE = 'vcard-temp:x:update';
const AVATAR_CHANGED_REMOTE = 'remote/avatar-changed';

interface AvatarChanged {
  username: string;
  /** SHA-1 of the image in hex, '' for no avatar. */
  hash: string;
}

const photoOf = (vcard: Element | null): VcardPhoto | null => vcardPhoto(vcard?.getChild('PHOTO'));

/** The presence with the server's word on the avatar in place of the client's. */
function withPhoto(presence: Element, hash: string): void {
  presence.remove('x', NS_UPDATE);
  presence.append(xml('x', { xmlns: NS_UPDATE }, hash ? xml('photo', {}, hash) : xml('photo')));
}

export const avatarConversionModule: XmppModule = {
  name: 'avatar-conversion',
  depends: ['pep', 'vcard'],
  storage: ['vcards'],
  load(ctx) {
    const { kernel } = ctx;
    const pep = ctx.dependency<PepApi>('pep');
    const vcards = ctx.repository('vcards');
    const hashes = new Map<string, string>();
    ctx.onUnload(() => hashes.clear());
    ctx.feature('urn:xmpp:pep-vcard-conversion:0', { host: false, account: true });

    const hasLocalSession = (username: string): boolean => {
      for (const s of kernel.localSessions(`${username}@${kernel.domain}`)) if (!s.closed) return true;
      return false;
    };

    const readVcard = async (username: string): Promise<Element | null> => {
      const text = await vcards.get(username);
      return text === null ? null : parseXml(text);
    };

    /** The avatar's hash: the PEP metadata's if there is any, else the vCard photo's; undefined if neither says. */
    const currentHash = async (username: string): Promise<string | undefined> => {
      const meta = (await pep.items(username, NS_METADATA)).at(-1);
      if (meta) return parseXml(meta.payload).getChildren('info').find((i) => !i.attrs.url)?.attrs.id ?? '';
      return photoOf(await readVcard(username))?.hash;
    };

    /** Remembers a new hash for a user with sessions here and announces it in their presence. */
    const changed = (username: string, hash: string): void => {
      if (!hasLocalSession(username) || hashes.get(username) === hash) return;
      hashes.set(username, hash);
      for (const session of kernel.localSessions(`${username}@${kernel.domain}`)) {
        if (!session.available || !session.presence) continue;
        const again = session.presence.clone();
        delete again.attrs.to;
        kernel.route(again, session.jid, session);
      }
    };
    const announce = (username: string, hash: string): void => {
      changed(username, hash);
      kernel.broadcast(AVATAR_CHANGED_REMOTE, { username, hash } satisfies AvatarChanged);
    };

    /** 3.1: the metadata names the data item whose image becomes the vCard's photo. */
    const pepToVcard = async (owner: string, metadata: Element): Promise<void> => {
      const infos = metadata.getChildren('info');
      const vcard = (await readVcard(owner)) ?? xml('vCard', { xmlns: NS_VCARD });
      if (!infos.length) {
        if (vcard.getChild('PHOTO')) {
          vcard.remove('PHOTO');
          await vcards.set(owner, vcard.toString());
        }
        announce(owner, '');
        return;
      }
      const info = infos.find((i) => !i.attrs.url);
      if (!info?.attrs.id) return;
      const id = info.attrs.id;
      const data = (await pep.items(owner, NS_DATA, [id]))[0];
      if (!data) return;
      const base64 = parseXml(data.payload).getText().replace(/\s+/g, '');
      if (avatarHash(Buffer.from(base64, 'base64')) !== id) {
        ctx.log.info('avatar data does not hash to its id; the vCard is left as it is', { user: owner, id });
        return;
      }
      if (photoOf(vcard)?.hash !== id) {
        vcard.remove('PHOTO');
        vcard.append(xml('PHOTO', {}, xml('TYPE', {}, info.attrs.type ?? 'image/png'), xml('BINVAL', {}, base64)));
        const text = vcard.toString();
        const limit = ctx.readProperty<number>('xmpp.vcard.max-bytes');
        if (Buffer.byteLength(text, 'utf8') > limit) {
          ctx.log.info('avatar too large for the vCard limit; the vCard is left as it is', { user: owner, limit });
        } else {
          await vcards.set(owner, text);
        }
      }
      announce(owner, id);
    };

    /** 3.2: a vCard photo is published as data, then metadata (which brings it back here, unchanged). */
    const vcardToPep = async (username: string, vcard: Element): Promise<void> => {
      const photo = photoOf(vcard);
      const current = await currentHash(username);
      if (!photo) {
        if (current) await pep.publish(username, NS_METADATA, xml('metadata', { xmlns: NS_METADATA }), { id: 'none' });
        return;
      }
      if (photo.hash === current) return;
      const bytes = Buffer.from(photo.base64, 'base64').length;
      await pep.publish(username, NS_DATA, xml('data', { xmlns: NS_DATA }, photo.base64), { id: photo.hash });
      await pep.publish(username, NS_METADATA, xml('metadata', { xmlns: NS_METADATA },
        xml('info', { id: photo.hash, bytes: String(bytes), type: photo.type })), { id: photo.hash });
    };

    const report = (what: string) => (err: unknown): void => kernel.reportError(what, err);

    ctx.hook<PepPublishedEvent>(PEP_PUBLISHED, ({ owner, node, payload }) => {
      if (node === NS_METADATA) pepToVcard(owner, payload).catch(report('avatar to vCard conversion failed'));
    });
    ctx.hook<VcardStoredEvent>(VCARD_STORED, ({ username, vcard }) => {
      vcardToPep(username, vcard).catch(report('vCard to avatar conversion failed'));
    });
    ctx.hook<AvatarChanged>(AVATAR_CHANGED_REMOTE, ({ username, hash }) => changed(username, hash));

    ctx.hook<SessionEvent>('session/bound', ({ session }) => {
      const username = session.jid.local;
      if (hashes.has(username)) return;
      currentHash(username).then((hash) => {
        if (hash !== undefined && hasLocalSession(username) && !hashes.has(username)) hashes.set(username, hash);
      }, report('reading the avatar hash failed'));
    });
    ctx.hook<SessionEvent>('session/closed', ({ session }) => {
      if (!hasLocalSession(session.jid.local)) hashes.delete(session.jid.local);
    });
    // Above the presence module, which then broadcasts the presence as changed here.
    ctx.hook<StanzaEvent>('presence/broadcast', (ev) => {
      const hash = ev.origin && ev.stanza.attrs.type === undefined ? hashes.get(ev.origin.jid.local) : undefined;
      if (hash !== undefined) withPhoto(ev.stanza, hash);
      return false;
    }, 20);
  },
};
