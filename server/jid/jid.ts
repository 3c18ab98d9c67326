// JIDs (RFC 7622). Parsing prepares each part once, so every JID in the server is already
// in its canonical form and comparisons are plain string equality.
import { prepareDomain, prepareLocal, prepareResource } from './prep.ts';

export class JidError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`invalid JID '${input}': ${reason}`);
    this.name = 'JidError';
  }
}

// Module-level rather than a closure in parse(): tsx names every closure it creates with a
// defineProperty call, which made parse() several times slower.
function fail(input: string, reason: string): never {
  throw new JidError(input, reason);
}

export class JID {
  /** Canonical string form, computed once. */
  private readonly str: string;

  private constructor(
    readonly local: string,
    readonly domain: string,
    readonly resource: string,
  ) {
    this.str = (local ? local + '@' : '') + domain + (resource ? '/' + resource : '');
  }

  /** Builds a JID from parts that are already prepared (internal use, no checks). */
  static fromPrepared(local: string, domain: string, resource = ''): JID {
    return new JID(local, domain, resource);
  }

  /** Parses and prepares; throws JidError on anything RFC 7622 refuses. */
  static parse(input: string): JID {
    const slash = input.indexOf('/');
    const beforeResource = slash === -1 ? input : input.slice(0, slash);
    const at = beforeResource.indexOf('@');
    const rawLocal = at === -1 ? null : beforeResource.slice(0, at);
    const rawDomain = at === -1 ? beforeResource : beforeResource.slice(at + 1);
    const rawResource = slash === -1 ? null : input.slice(slash + 1);
    if (rawLocal === '') fail(input, 'empty localpart');
    if (rawResource === '') fail(input, 'empty resourcepart');
    const local = rawLocal === null ? '' : prepareLocal(rawLocal) ?? fail(input, 'localpart not allowed');
    const domain = prepareDomain(rawDomain) ?? fail(input, 'domainpart not allowed');
    const resource = rawResource === null ? '' : prepareResource(rawResource) ?? fail(input, 'resourcepart not allowed');
    return new JID(local, domain, resource);
  }

  /** parse() that returns null instead of throwing. */
  static tryParse(input: string | undefined): JID | null {
    if (input === undefined) return null;
    try {
      return JID.parse(input);
    } catch {
      return null;
    }
  }

  get isBare(): boolean {
    return this.resource === '';
  }

  /** True for a server or component address (no localpart, no resource). */
  get isDomain(): boolean {
    return this.local === '' && this.resource === '';
  }

  bare(): JID {
    return this.resource === '' ? this : new JID(this.local, this.domain, '');
  }

  /** String form of the bare JID without allocating a JID. */
  bareString(): string {
    return this.local ? this.local + '@' + this.domain : this.domain;
  }

  withResource(resource: string): JID {
    return new JID(this.local, this.domain, resource);
  }

  equals(other: JID | null | undefined): boolean {
    return !!other && other.str === this.str;
  }

  toString(): string {
    return this.str;
  }

  toJSON(): string {
    return this.str;
  }
}
