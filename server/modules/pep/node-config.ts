// Node configuration (XEP-0060 section 8.2, pubsub#node_config) as PEP supports it, stored
// as field values by name. Every value is normalized when it comes in, so comparing a
// publish-options form with a node's configuration (7.1.5) is comparing strings, except
// for max_items, where 'max' stands for the server's maximum.
import type { Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';
import { renderForm, type FormField } from './data-form.ts';
import { NS_NODE_CONFIG } from './namespaces.ts';
import { pubsubError } from './pubsub-errors.ts';

export type NodeConfig = Record<string, string>;

export const ACCESS_MODELS = ['open', 'presence', 'roster', 'whitelist'] as const;
export type AccessModel = (typeof ACCESS_MODELS)[number];

const BOOLEAN = new Set(['pubsub#persist_items', 'pubsub#deliver_notifications', 'pubsub#deliver_payloads', 'pubsub#notify_retract', 'pubsub#notify_delete', 'pubsub#presence_based_delivery']);
const SEND_LAST = ['never', 'on_sub', 'on_sub_and_presence'];
/** The roster groups a node of access model 'roster' is open to (one per line when stored). */
export const ROSTER_GROUPS = 'pubsub#roster_groups_allowed';
const MAX_GROUPS = 100;

/** XEP-0163 section 5's defaults. */
export const DEFAULT_CONFIG: Readonly<NodeConfig> = {
  'pubsub#access_model': 'presence',
  'pubsub#persist_items': 'true',
  'pubsub#max_items': '1',
  'pubsub#deliver_notifications': 'true',
  'pubsub#deliver_payloads': 'true',
  'pubsub#notify_retract': 'true',
  'pubsub#notify_delete': 'true',
  'pubsub#presence_based_delivery': 'false',
  'pubsub#send_last_published_item': 'on_sub_and_presence',
  'pubsub#title': '',
  [ROSTER_GROUPS]: '',
};

/** A field value in its stored form; a field PEP does not know, or a value it cannot take, is refused. */
export function normalizeOption(name: string, raw: string, serverMax: number): string {
  const value = raw.trim();
  const invalid = (): StanzaError => new StanzaError('not-acceptable', `${value} is not a value of ${name}`);
  if (BOOLEAN.has(name)) {
    if (value === '1' || value === 'true') return 'true';
    if (value === '0' || value === 'false') return 'false';
    throw invalid();
  }
  switch (name) {
    case 'pubsub#access_model':
      if ((ACCESS_MODELS as readonly string[]).includes(value)) return value;
      throw new StanzaError('not-acceptable', `The access model ${value} is not supported`, 'modify', pubsubError('unsupported-access-model'));
    case 'pubsub#max_items': {
      if (value === 'max') return value;
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw invalid();
      if (Number(value) > serverMax) throw new StanzaError('not-acceptable', `A node keeps at most ${serverMax} items`);
      return String(Number(value));
    }
    case 'pubsub#send_last_published_item':
      if (SEND_LAST.includes(value)) return value;
      throw invalid();
    case 'pubsub#title':
      if (value.length <= 1024) return value;
      throw invalid();
    case ROSTER_GROUPS: {
      // Sorted and without repeats, so that publish-options compare as strings.
      const groups = [...new Set(value.split('\n').map((g) => g.trim()).filter((g) => g !== ''))].sort();
      if (groups.length > MAX_GROUPS || groups.some((g) => g.length > 1024)) throw new StanzaError('not-acceptable', `At most ${MAX_GROUPS} roster groups of up to 1024 characters`);
      return groups.join('\n');
    }
    default:
      throw new StanzaError('not-acceptable', `The option ${name} is not supported`);
  }
}

/** Applies submitted values (FORM_TYPE aside) to a configuration; throws on any bad one. */
export function applyOptions(config: NodeConfig, values: Map<string, string>, serverMax: number): NodeConfig {
  const out = { ...DEFAULT_CONFIG, ...config };
  for (const [name, raw] of values) {
    if (name === 'FORM_TYPE') continue;
    out[name] = normalizeOption(name, raw, serverMax);
  }
  return out;
}

/** Items the node keeps: one for a node that does not persist items (its last item is still sent). */
export function maxItemsOf(config: NodeConfig, serverMax: number): number {
  if (config['pubsub#persist_items'] === 'false') return 1;
  const value = config['pubsub#max_items'] ?? DEFAULT_CONFIG['pubsub#max_items']!;
  return value === 'max' ? serverMax : Math.min(Number(value), serverMax);
}

export function accessModelOf(config: NodeConfig): AccessModel {
  return (config['pubsub#access_model'] ?? 'presence') as AccessModel;
}

export function rosterGroupsOf(config: NodeConfig): string[] {
  const value = config[ROSTER_GROUPS] ?? '';
  return value === '' ? [] : value.split('\n');
}

export function isOn(config: NodeConfig, name: string): boolean {
  return (config[name] ?? DEFAULT_CONFIG[name]) === 'true';
}

/**
 * XEP-0060 7.1.5: whether publish-options agree with an existing node's configuration.
 * An option that cannot be compared (unknown, or an invalid value) is a mismatch too.
 */
export function optionsMatch(config: NodeConfig, values: Map<string, string>, serverMax: number): boolean {
  const current = { ...DEFAULT_CONFIG, ...config };
  for (const [name, raw] of values) {
    if (name === 'FORM_TYPE') continue;
    let wanted: string;
    try {
      wanted = normalizeOption(name, raw, serverMax);
    } catch {
      return false;
    }
    const have = current[name];
    if (name === 'pubsub#max_items') {
      const size = (v: string | undefined): number => (v === 'max' ? serverMax : Number(v));
      if (size(wanted) !== size(have)) return false;
    } else if (wanted !== have) {
      return false;
    }
  }
  return true;
}

/** The configuration as a form to fill in (section 8.2.1). */
export function configForm(config: NodeConfig): Element {
  const c = { ...DEFAULT_CONFIG, ...config };
  const bool = (name: string, label: string): FormField => ({ var: name, type: 'boolean', label, value: c[name] === 'true' ? '1' : '0' });
  return renderForm('form', NS_NODE_CONFIG, [
    { var: 'pubsub#title', type: 'text-single', label: 'A short name for the node', value: c['pubsub#title']! },
    { var: 'pubsub#access_model', type: 'list-single', label: 'Who may subscribe and retrieve items', value: c['pubsub#access_model']!, options: ACCESS_MODELS },
    { var: ROSTER_GROUPS, type: 'list-multi', label: 'Roster groups allowed to subscribe (access model roster)', value: c[ROSTER_GROUPS]!, options: rosterGroupsOf(c) },
    bool('pubsub#persist_items', 'Persist items to storage'),
    { var: 'pubsub#max_items', type: 'text-single', label: 'Max number of items to persist (or max)', value: c['pubsub#max_items']! },
    bool('pubsub#deliver_notifications', 'Deliver event notifications'),
    bool('pubsub#deliver_payloads', 'Deliver payloads with event notifications'),
    bool('pubsub#notify_retract', 'Notify subscribers when items are removed from the node'),
    bool('pubsub#notify_delete', 'Notify subscribers when the node is deleted'),
    bool('pubsub#presence_based_delivery', 'Deliver notifications only to available users'),
    { var: 'pubsub#send_last_published_item', type: 'list-single', label: 'When to send the last published item', value: c['pubsub#send_last_published_item']!, options: SEND_LAST },
  ]);
}
