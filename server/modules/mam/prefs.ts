// Archiving preferences (XEP-0313 7): a default (always, roster, never) and two lists of
// JIDs that are always or never archived, whatever the default.
import { JID } from '../../jid/jid.ts';
import type { ArchiveDefault, ArchivePrefs } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { StanzaError } from '../../xml/errors.ts';

export const NS_MAM = 'urn:xmpp:mam:2';
const DEFAULTS: readonly string[] = ['always', 'roster', 'never'];

/** What the decision needs to know of the owner's roster, asked only for the roster default. */
export type InRoster = () => boolean | Promise<boolean>;

/**
 * Whether a message with `contact` (a bare JID) goes into the archive. A JID on the never
 * list wins over the always list (XEP-0313 7: never means never).
 */
export function shouldArchive(prefs: ArchivePrefs, contact: string, inRoster: InRoster): boolean | Promise<boolean> {
  if (prefs.never.includes(contact)) return false;
  if (prefs.always.includes(contact)) return true;
  if (prefs.default === 'always') return true;
  if (prefs.default === 'never') return false;
  return inRoster();
}

function jidList(parent: Element | undefined, max: number): string[] {
  if (!parent) return [];
  const out = new Set<string>();
  for (const el of parent.getChildren('jid')) {
    const jid = JID.tryParse(el.getText().trim());
    if (!jid) throw new StanzaError('jid-malformed', `not a JID: ${el.getText()}`);
    // Preferences apply to contacts, so they hold bare JIDs (a full one is taken as its account).
    out.add(jid.bareString());
  }
  if (out.size > max) throw new StanzaError('not-acceptable', `at most ${max} JIDs in each list`);
  return [...out];
}

/** Reads a <prefs/> set; bad-request for a missing or unknown default. */
export function parsePrefs(prefs: Element, maxJids: number): ArchivePrefs {
  const mode = prefs.attrs.default;
  if (mode === undefined || !DEFAULTS.includes(mode)) throw new StanzaError('bad-request', "default must be 'always', 'roster' or 'never'");
  return {
    default: mode as ArchiveDefault,
    always: jidList(prefs.getChild('always'), maxJids),
    never: jidList(prefs.getChild('never'), maxJids),
  };
}

export function prefsElement(prefs: ArchivePrefs): Element {
  const list = (name: string, jids: string[]): Element => xml(name, {}, ...jids.map((j) => xml('jid', {}, j)));
  return xml('prefs', { xmlns: NS_MAM, default: prefs.default }, list('always', prefs.always), list('never', prefs.never));
}
