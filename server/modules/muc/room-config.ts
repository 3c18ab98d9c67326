// A room's options (XEP-0045 10.2, the muc#roomconfig form): their defaults, the form an
// owner is sent, and reading the form an owner submits. The options are plain data, so
// that the store keeps them as one JSON document and a new option needs no migration.
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { NS_DATA, NS_MUC_ROOMCONFIG } from './namespaces.ts';

export type Whois = 'moderators' | 'anyone';

export interface RoomConfig {
  roomname: string;
  roomdesc: string;
  persistentroom: boolean;
  publicroom: boolean;
  membersonly: boolean;
  moderatedroom: boolean;
  passwordprotectedroom: boolean;
  roomsecret: string;
  /** 0: no limit. */
  maxusers: number;
  whois: Whois;
  historylength: number;
  allowinvites: boolean;
  changesubject: boolean;
  allowpm: boolean;
  getmemberlist: boolean;
  /** Groupchat messages go to the room's archive (XEP-0313). */
  enablearchiving: boolean;
  /** A random value of the room's own, behind its occupant ids (XEP-0421). */
  occupantIdSalt: string;
}

export function defaultConfig(defaults: { historylength: number; maxusers: number; occupantIdSalt: string }): RoomConfig {
  return {
    roomname: '', roomdesc: '', persistentroom: false, publicroom: true, membersonly: false, moderatedroom: false,
    passwordprotectedroom: false, roomsecret: '', maxusers: defaults.maxusers, whois: 'moderators',
    historylength: defaults.historylength, allowinvites: false, changesubject: false, allowpm: true, getmemberlist: true, enablearchiving: false,
    occupantIdSalt: defaults.occupantIdSalt,
  };
}

/** A stored configuration over the defaults: options stored before a new one existed get its default. */
export function storedConfig(stored: Record<string, unknown>, defaults: RoomConfig): RoomConfig {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(stored)) if (k in defaults && typeof v === typeof (defaults as unknown as Record<string, unknown>)[k]) out[k] = v;
  return out as unknown as RoomConfig;
}

const BOOLEANS = ['persistentroom', 'publicroom', 'membersonly', 'moderatedroom', 'passwordprotectedroom', 'allowinvites', 'changesubject', 'allowpm', 'getmemberlist', 'enablearchiving'] as const;
type BooleanOption = typeof BOOLEANS[number];

const LABELS: Record<BooleanOption, string> = {
  persistentroom: 'Make room persistent', publicroom: 'List the room publicly', membersonly: 'Make room members-only',
  moderatedroom: 'Make room moderated', passwordprotectedroom: 'Password required to enter',
  allowinvites: 'Allow occupants to invite others', changesubject: 'Allow occupants to change the subject',
  allowpm: 'Allow private messages', getmemberlist: 'Allow occupants to get the member list',
  enablearchiving: 'Archive the messages of the room',
};

const field = (name: string, type: string, label: string, values: readonly string[], options?: readonly [string, string][]): Element => {
  const f = xml('field', { var: `muc#roomconfig_${name}`, type, label });
  for (const [value, optionLabel] of options ?? []) f.append(xml('option', { label: optionLabel }, xml('value', null, value)));
  for (const v of values) f.append(xml('value', null, v));
  return f;
};

function maxUsersOptions(current: number): [string, string][] {
  const values = [...new Set([10, 20, 30, 50, 100, current, 0])];
  return values.map((v) => [String(v), v === 0 ? 'No limit' : String(v)]);
}

/** The muc#roomconfig form with the room's current options (and its owners and admins, who are part of it). */
export function configForm(config: RoomConfig, owners: readonly string[], admins: readonly string[]): Element {
  const form = xml('x', { xmlns: NS_DATA, type: 'form' },
    xml('title', null, 'Room configuration'),
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', null, NS_MUC_ROOMCONFIG)),
    field('roomname', 'text-single', 'Room name', [config.roomname]),
    field('roomdesc', 'text-single', 'Room description', [config.roomdesc]));
  for (const name of BOOLEANS) {
    form.append(field(name, 'boolean', LABELS[name], [config[name] ? '1' : '0']));
    if (name === 'passwordprotectedroom') form.append(field('roomsecret', 'text-private', 'Password', [config.roomsecret]));
  }
  form.append(
    field('maxusers', 'list-single', 'Maximum number of occupants', [String(config.maxusers)], maxUsersOptions(config.maxusers)),
    field('whois', 'list-single', 'Who may discover real JIDs', [config.whois], [['moderators', 'Moderators only'], ['anyone', 'Anyone']]),
    field('historylength', 'text-single', 'Maximum number of history messages', [String(config.historylength)]),
    xml('field', { var: 'muc#maxhistoryfetch', type: 'text-single', label: 'Maximum number of history messages' }, xml('value', null, String(config.historylength))),
    field('roomowners', 'jid-multi', 'Room owners', owners),
    field('roomadmins', 'jid-multi', 'Room admins', admins));
  return form;
}

/** What a submitted form changes: the options, and the owners and admins when it names them. */
export interface ConfigChange {
  config: RoomConfig;
  owners?: string[];
  admins?: string[];
}

const TRUE = new Set(['1', 'true']);
const FALSE = new Set(['0', 'false']);

/** Reads a submitted muc#roomconfig form over the current options; bad values are refused with not-acceptable. */
export function applyConfigForm(form: Element, current: RoomConfig, maxHistory: number): ConfigChange {
  const config: RoomConfig = { ...current };
  const change: ConfigChange = { config };
  for (const f of form.getChildren('field')) {
    const name = f.attrs.var ?? '';
    const values = f.getChildren('value').map((v) => v.getText());
    const value = values[0] ?? '';
    const option = name.startsWith('muc#roomconfig_') ? name.slice('muc#roomconfig_'.length) : name === 'muc#maxhistoryfetch' ? 'historylength' : '';
    if ((BOOLEANS as readonly string[]).includes(option)) {
      if (!TRUE.has(value) && !FALSE.has(value)) throw new StanzaError('not-acceptable', `${name} must be a boolean`);
      config[option as BooleanOption] = TRUE.has(value);
    } else if (option === 'roomname' || option === 'roomdesc' || option === 'roomsecret') {
      config[option] = value;
    } else if (option === 'maxusers' || option === 'historylength') {
      const n = value === '' && option === 'maxusers' ? 0 : Number(value);
      if (!Number.isInteger(n) || n < 0) throw new StanzaError('not-acceptable', `${name} must be a whole number`);
      config[option] = option === 'historylength' ? Math.min(n, maxHistory) : n;
    } else if (option === 'whois') {
      if (value !== 'moderators' && value !== 'anyone') throw new StanzaError('not-acceptable', 'muc#roomconfig_whois is moderators or anyone');
      config.whois = value;
    } else if (option === 'roomowners' || option === 'roomadmins') {
      change[option === 'roomowners' ? 'owners' : 'admins'] = values.filter((v) => v !== '');
    }
  }
  if (config.passwordprotectedroom && config.roomsecret === '') throw new StanzaError('not-acceptable', 'A password-protected room needs a password');
  if (!config.passwordprotectedroom) config.roomsecret = '';
  return change;
}
