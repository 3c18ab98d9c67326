// XEP-0334 message processing hints, read in one place for every module that stores or
// copies messages (offline storage, archiving, carbons), so that they all read a hint the
// same way. Hints are only hints (XEP-0334 section 5): each reader decides what it honours.
import type { Element } from './element.ts';

export const NS_HINTS = 'urn:xmpp:hints';

export interface ProcessingHints {
  /** <no-copy/>: not to be copied to other addresses (message carbons). */
  readonly noCopy: boolean;
  /** <no-store/>: neither archived nor kept for later delivery to an offline recipient. */
  readonly noStore: boolean;
  /** <no-permanent-store/>: not archived, though it may be kept for delivery (offline storage). */
  readonly noPermanentStore: boolean;
  /** <store/>: to be stored even where it otherwise would not be (not for errors). */
  readonly store: boolean;
}

const NONE: ProcessingHints = Object.freeze({ noCopy: false, noStore: false, noPermanentStore: false, store: false });

/** The hints a message carries, as direct children in the hints namespace. */
export function processingHints(message: Element): ProcessingHints {
  let hints: { -readonly [K in keyof ProcessingHints]: boolean } | null = null;
  for (const child of message.getChildElements()) {
    if (child.getNS() !== NS_HINTS) continue;
    hints ??= { ...NONE };
    switch (child.localName) {
      case 'no-copy': hints.noCopy = true; break;
      case 'no-store': hints.noStore = true; break;
      case 'no-permanent-store': hints.noPermanentStore = true; break;
      case 'store': hints.store = true; break;
      default: break;
    }
  }
  return hints ?? NONE;
}

/** Whether a permanent archive (XEP-0313) may keep the message: neither no-store nor no-permanent-store. */
export function mayArchive(hints: ProcessingHints): boolean {
  return !hints.noStore && !hints.noPermanentStore;
}
