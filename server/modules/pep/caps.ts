// Entity capabilities (XEP-0115) of the resources that may get PEP notifications. A
// resource's presence carries `<c hash node ver/>`; which features the string stands for
// is learnt once, by asking a resource that announced it for disco#info at `node#ver`, and
// kept only if the answer hashes to `ver`. Verified strings go to the shared SQL cache, so
// any node can read a resource's features from its route's presence; the most used are
// kept in memory here.
import type { Kernel } from '../../extension/kernel.ts';
import type { Logger } from '../../log.ts';
import type { CapsInfo, CapsRepository } from '../../storage/types.ts';
import { xml, type Element } from '../../xml/element.ts';
import { capsInfoOf, supportedHash, verifies } from '../caps-hash.ts';
import { NS_CAPS, NS_DISCO_INFO } from './namespaces.ts';

export interface Caps {
  hash: string;
  node: string;
  ver: string;
}

/** How long the server waits for a client's disco#info answer. */
const DISCO_TIMEOUT_MS = 10_000;

/** The caps a presence announces, if it does so with a hash this server can check. */
export function capsOf(presence: Element | null | undefined): Caps | null {
  const c = presence?.getChild('c', NS_CAPS);
  const { hash, node, ver } = c?.attrs ?? {};
  // Legacy caps (no hash, XEP-0115 before 1.5) cannot be verified, so are not trusted.
  if (!hash || !node || !ver || !supportedHash(hash)) return null;
  return { hash, node, ver };
}

const keyOf = (caps: Caps): string => `${caps.hash} ${caps.ver}`;

/** The nodes a feature list asks notifications for (XEP-0163 4.2: `<node>+notify`). */
export function notifyNodes(features: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const f of features) if (f.endsWith('+notify')) out.add(f.slice(0, -'+notify'.length));
  return out;
}

export class CapsResolver {
  private readonly memory = new Map<string, ReadonlySet<string>>();
  private readonly inFlight = new Map<string, Promise<ReadonlySet<string> | undefined>>();

  constructor(
    private readonly repo: CapsRepository,
    private readonly kernel: Kernel,
    private readonly log: Logger,
    private readonly maxCached: () => number,
  ) {}

  /** Features of a verified string, from memory or the shared cache; undefined if not known yet. */
  async features(caps: Caps): Promise<ReadonlySet<string> | undefined> {
    const key = keyOf(caps);
    const hit = this.memory.get(key);
    if (hit) {
      // Map order is recency order: the least used string is the first to go.
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit;
    }
    const stored = await this.repo.get(key);
    if (!stored) return undefined;
    return this.remember(key, stored);
  }

  /**
   * Features of the caps a resource announced, asking the resource itself when no node
   * knows the string yet. Undefined if it does not answer or its answer does not verify.
   */
  async discover(fullJid: string, caps: Caps): Promise<ReadonlySet<string> | undefined> {
    const known = await this.features(caps);
    if (known) return known;
    const key = keyOf(caps);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.ask(fullJid, caps).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async ask(fullJid: string, caps: Caps): Promise<ReadonlySet<string> | undefined> {
    const key = keyOf(caps);
    const iq = xml('iq', { xmlns: 'jabber:client', type: 'get', to: fullJid },
      xml('query', { xmlns: NS_DISCO_INFO, node: `${caps.node}#${caps.ver}` }));
    let answer: Element;
    try {
      answer = await this.kernel.sendIq(iq, DISCO_TIMEOUT_MS);
    } catch (err) {
      this.log.debug('no disco#info answer for caps', { jid: fullJid, error: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
    const query = answer.attrs.type === 'result' ? answer.getChild('query', NS_DISCO_INFO) : undefined;
    if (!query || !verifies(query, caps.hash, caps.ver)) {
      this.log.info('caps of a resource do not verify; its features are not used', { jid: fullJid, ver: key });
      return undefined;
    }
    const info = capsInfoOf(query)!;
    await this.repo.put(key, info);
    return this.remember(key, info);
  }

  private remember(key: string, info: CapsInfo): ReadonlySet<string> {
    const features: ReadonlySet<string> = new Set(info.features);
    this.memory.set(key, features);
    const max = this.maxCached();
    for (const oldest of this.memory.keys()) {
      if (this.memory.size <= max) break;
      this.memory.delete(oldest);
    }
    return features;
  }

  clear(): void {
    this.memory.clear();
  }
}
