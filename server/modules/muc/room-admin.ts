// The service's API for operators (RoomAdmin, extension/room-admin.ts): the admin API lists,
// creates, changes and destroys rooms through it. A change is written as the form or the
// muc#admin items an owner would send and handed to the room's own code (Room.configure,
// changeAffiliations, destroy), so the checks, the storing and what occupants are told are
// those of an owner's IQ; the refusal an owner would get becomes an 'invalid' with its text.
import { JID } from '../../jid/jid.ts';
import {
  RoomAdminError, type AffiliationChange, type RoomAdmin, type RoomDetail, type RoomOptionValue, type RoomSummary,
} from '../../extension/room-admin.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_DATA, NS_MUC_ADMIN, NS_MUC_ROOMCONFIG } from './namespaces.ts';
import { applyConfigForm, defaultConfig, type RoomConfig } from './room-config.ts';
import type { RoomHost } from './room-output.ts';
import { AFFILIATIONS } from './roles.ts';
import { Room } from './room.ts';

export interface RoomAdminDeps {
  rooms: Map<string, Room>;
  /** conference.<domain> */
  service(): string;
  host: RoomHost;
  newConfig(): RoomConfig;
  /** A room was made here (create): in a cluster it goes to its owner node, if that is another. */
  placed?(name: string): void;
}

/** The options an operator may set, with a value of each one's type; the occupant id salt is the room's own. */
const OPTION_TYPES: Record<string, RoomOptionValue> = (() => {
  const { occupantIdSalt: _salt, ...rest } = defaultConfig({ historylength: 0, maxusers: 0, occupantIdSalt: '' });
  return rest;
})();

/**
 * A muc#roomconfig submission of these options, each checked for its name and type. A string
 * is taken for any option, as a form's text (the room then checks it as it checks an owner's
 * form): a command line has nothing but text.
 */
function optionsForm(options: Record<string, RoomOptionValue>): Element {
  const form = xml('x', { xmlns: NS_DATA, type: 'submit' }, xml('field', { var: 'FORM_TYPE' }, xml('value', null, NS_MUC_ROOMCONFIG)));
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(OPTION_TYPES, name)) throw new RoomAdminError('invalid', `no room option '${name}' (options: ${Object.keys(OPTION_TYPES).join(', ')})`);
    const wanted = typeof OPTION_TYPES[name];
    if (typeof value !== 'string' && (typeof value !== wanted || (wanted === 'number' && !Number.isInteger(value)))) {
      throw new RoomAdminError('invalid', `room option '${name}' takes ${wanted === 'number' ? 'a whole number' : `a ${wanted}`}`);
    }
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    form.append(xml('field', { var: `muc#roomconfig_${name}` }, xml('value', null, text)));
  }
  return form;
}

/** Runs a room's owner path; what it refuses is the operator's bad input. */
function asOwner(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof StanzaError) throw new RoomAdminError('invalid', err.text ?? err.condition);
    throw err;
  }
}

function summary(room: Room): RoomSummary {
  return {
    jid: room.jid, name: room.name, title: room.config.roomname, persistent: room.config.persistentroom, public: room.config.publicroom,
    locked: room.locked, occupants: room.occupants.size, created: room.created.toISOString(),
  };
}

function detail(room: Room): RoomDetail {
  const { occupantIdSalt: _salt, ...options } = room.config;
  const { occupants: _count, ...rest } = summary(room);
  return {
    ...rest,
    subject: room.subject,
    options,
    affiliations: room.affiliationList(),
    occupants: [...room.occupants.values()].map((o) => ({
      nick: o.nick, role: o.role as RoomDetail['occupants'][number]['role'], affiliation: room.affiliationOf(o.bare), bare: o.bare, jids: [...o.sessions.keys()],
    })),
  };
}

export function roomAdmin(d: RoomAdminDeps): RoomAdmin {
  /** The room's name from a name or a JID of the service. */
  const nameOf = (input: string): string => {
    const jid = JID.tryParse(input.includes('@') ? input : `${input}@${d.service()}`);
    if (!jid || !jid.local || jid.resource || jid.domain !== d.service()) throw new RoomAdminError('invalid', `'${input}' is not a room name or a room JID of ${d.service()}`);
    return jid.local;
  };
  const find = (input: string): Room => {
    const name = nameOf(input);
    const room = d.rooms.get(name);
    if (!room) throw new RoomAdminError('not-found', `no room ${name}@${d.service()}`);
    return room;
  };
  const bareOf = (input: string, what: string): string => {
    const jid = JID.tryParse(input);
    if (!jid || !jid.local || jid.resource) throw new RoomAdminError('invalid', `${what} '${input}' is not a bare JID`);
    return jid.bareString();
  };
  const affiliationItems = (changes: readonly AffiliationChange[]): Element => {
    const query = xml('query', { xmlns: NS_MUC_ADMIN });
    for (const c of changes) {
      if (!AFFILIATIONS.includes(c.affiliation)) throw new RoomAdminError('invalid', `no affiliation '${c.affiliation}' (${AFFILIATIONS.join(', ')})`);
      query.append(xml('item', { jid: bareOf(c.jid, 'affiliation JID'), affiliation: c.affiliation }, c.reason ? xml('reason', null, c.reason) : undefined));
    }
    return query;
  };

  return {
    get service() { return d.service(); },
    async list() {
      return [...d.rooms.values()].sort((a, b) => a.name.localeCompare(b.name)).map(summary);
    },
    async get(name) {
      return detail(find(name));
    },
    async create(input, ownerInput, options = {}) {
      const name = nameOf(input);
      const owner = bareOf(ownerInput, 'owner');
      if (d.rooms.has(name)) throw new RoomAdminError('exists', `room ${name}@${d.service()} exists`);
      // Checked before the room exists, so that bad options leave nothing behind.
      const form = optionsForm({ ...options, persistentroom: true });
      const room = new Room(name, d.service(), d.newConfig(), d.host, { locked: false });
      room.setOwner(owner);
      asOwner(() => room.configure(form));
      d.rooms.set(name, room);
      const made = detail(room);
      d.placed?.(name);
      return made;
    },
    async change(input, change) {
      const room = find(input);
      const form = change.options && Object.keys(change.options).length ? optionsForm(change.options) : null;
      const affiliations = change.affiliations?.length ? affiliationItems(change.affiliations) : null;
      // All or nothing: the form is read once without being applied (its values checked), then
      // the affiliations are changed (the room checks them all before it changes one), then
      // the options, which can no longer be refused.
      if (form) asOwner(() => applyConfigForm(form, room.config, d.host.maxHistory));
      if (affiliations) asOwner(() => room.changeAffiliations(affiliations));
      if (form) asOwner(() => room.configure(form));
      // A room made temporary while empty is gone.
      const still = d.rooms.get(room.name);
      if (!still) throw new RoomAdminError('not-found', `room ${room.jid} is gone: it was made temporary with nobody in it`);
      return detail(still);
    },
    async destroy(input, opts = {}) {
      const alternate = opts.alternate ? bareOf(opts.alternate, 'alternate venue') : undefined;
      const room = find(input);
      room.destroy(xml('destroy', { jid: alternate }, opts.reason ? xml('reason', null, opts.reason) : undefined));
    },
  };
}
