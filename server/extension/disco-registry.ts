// Features and identities announced in service discovery (XEP-0030). The kernel keeps the
// list because every module registers into it; the disco module only answers queries.
/** An entity the server lists in its disco#items (XEP-0030 4.1): its services. */
export interface DiscoItem {
  jid: string;
  name?: string;
}

/** An identity the server shows in disco#info (XEP-0030 3.1). */
export interface DiscoIdentity {
  category: string;
  type: string;
  name?: string;
}

export class DiscoRegistry {
  private readonly hostFeatures = new Map<string, number>();
  private readonly accountFeatures = new Map<string, number>();
  private readonly identities: DiscoIdentity[] = [{ category: 'server', type: 'im', name: 'xmppd' }];
  #revision = 0;

  /** Goes up at every change, so that what is derived from the lists (a caps hash) knows when to redo it. */
  get revision(): number {
    return this.#revision;
  }
  /** What accounts show beside account/registered (a PEP service: pubsub/pep). */
  private readonly accountIds: DiscoIdentity[] = [];
  private readonly items: DiscoItem[] = [];

  /** Returns the function that removes it again. Reference-counted: two modules may share a feature. */
  addFeature(xmlns: string, where: { host?: boolean; account?: boolean }): () => void {
    const maps = [where.host !== false ? this.hostFeatures : null, where.account ? this.accountFeatures : null]
      .filter((m): m is Map<string, number> => m !== null);
    for (const m of maps) m.set(xmlns, (m.get(xmlns) ?? 0) + 1);
    this.#revision++;
    return () => {
      this.#revision++;
      for (const m of maps) {
        const n = (m.get(xmlns) ?? 1) - 1;
        if (n > 0) m.set(xmlns, n);
        else m.delete(xmlns);
      }
    };
  }

  addIdentity(identity: DiscoIdentity, where: { account?: boolean } = {}): () => void {
    const list = where.account ? this.accountIds : this.identities;
    list.push(identity);
    this.#revision++;
    return () => {
      this.#revision++;
      const i = list.indexOf(identity);
      if (i !== -1) list.splice(i, 1);
    };
  }

  features(of: 'host' | 'account'): string[] {
    return [...(of === 'host' ? this.hostFeatures : this.accountFeatures).keys()].sort();
  }

  hostIdentities(): readonly DiscoIdentity[] {
    return this.identities;
  }

  accountIdentities(): readonly DiscoIdentity[] {
    return this.accountIds;
  }

  /** A service of the server (a subdomain) for the server's disco#items. */
  addItem(item: DiscoItem): () => void {
    this.items.push(item);
    return () => {
      const i = this.items.indexOf(item);
      if (i !== -1) this.items.splice(i, 1);
    };
  }

  hostItems(): readonly DiscoItem[] {
    return this.items;
  }
}
