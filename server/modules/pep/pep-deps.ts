// What the PEP handlers share.
import type { Kernel } from '../../extension/kernel.ts';
import type { Logger } from '../../log.ts';
import type { PepRepository } from '../../storage/types.ts';
import type { Element } from '../../xml/element.ts';
import type { RosterStore } from '../roster/roster-store.ts';
import type { CapsResolver } from './caps.ts';

export interface PepLimits {
  /** Items a node may keep, whatever its max_items says; what 'max' means. */
  maxItems: number;
  /** Largest payload of one item, in bytes of XML. */
  maxPayloadBytes: number;
  /** Nodes one account may have (0: no limit). */
  maxNodes: number;
  /** Affiliations one node may hold. */
  maxAffiliations: number;
}

export interface PepDeps {
  kernel: Kernel;
  repo: PepRepository;
  rosters: RosterStore;
  caps: CapsResolver;
  limits(): PepLimits;
  log: Logger;
}

/** Fired on this node after an item was stored: conversions (XEP-0398, XEP-0411) hook it. */
export const PEP_PUBLISHED = 'pep/published';

export interface PepPublishedEvent {
  owner: string;
  node: string;
  itemId: string;
  payload: Element;
}

/** Fired on this node after items were retracted. */
export const PEP_RETRACTED = 'pep/retracted';

export interface PepRetractedEvent {
  owner: string;
  node: string;
  itemIds: string[];
}
