// Preparation of JID parts (RFC 7622 with the PRECIS profiles of RFC 8264/8265/8266),
// approximated with Unicode normalization and the characters each part forbids.
// Each function returns the canonical form, or null when the part is not allowed.

const MAX_PART_BYTES = 1023;
const LOCAL_FORBIDDEN = /["&'/:<>@\s]/u;
// Control characters and unassigned/private-use code points are not allowed anywhere.
const DISALLOWED = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}]/u;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** UsernameCaseMapped: case-folded, NFC, no spaces nor the characters RFC 7622 3.3.1 forbids. */
export function prepareLocal(raw: string): string | null {
  // Fast path: plain ASCII usernames are the common case.
  const s = /^[\x21-\x7e]+$/.test(raw) ? raw.toLowerCase() : raw.normalize('NFKC').toLowerCase().normalize('NFC');
  if (s.length === 0 || byteLength(s) > MAX_PART_BYTES) return null;
  if (LOCAL_FORBIDDEN.test(s) || DISALLOWED.test(s)) return null;
  return s;
}

/** Domain: lower-cased, NFC, one trailing dot dropped, IPv6 literals kept in brackets. */
export function prepareDomain(raw: string): string | null {
  let s = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (s.startsWith('[')) {
    return /^\[[0-9a-fA-F:.]+\]$/.test(s) ? s.toLowerCase() : null;
  }
  s = s.normalize('NFKC').toLowerCase();
  if (s.length === 0 || byteLength(s) > MAX_PART_BYTES) return null;
  for (const label of s.split('.')) {
    if (label.length === 0 || label.length > 63) return null;
    if (/[\s/@:<>"'&\\]/u.test(label) || DISALLOWED.test(label)) return null;
  }
  return s;
}

/** OpaqueString: NFC, any printable character, case preserved. */
export function prepareResource(raw: string): string | null {
  const s = raw.normalize('NFC');
  if (s.length === 0 || byteLength(s) > MAX_PART_BYTES) return null;
  if (DISALLOWED.test(s)) return null;
  return s;
}
