// XEP-0198 counts handled stanzas modulo 2^32 (section 4): both sides wrap to 0 after
// 4294967295, so every comparison of two counts is a difference taken modulo 2^32.

export const COUNT_MODULUS = 2 ** 32;

/** The count after one more stanza. */
export function nextCount(h: number): number {
  return (h + 1) % COUNT_MODULUS;
}

/** How far `later` is ahead of `earlier`, modulo 2^32 (0 when equal). */
export function countsBetween(earlier: number, later: number): number {
  return (later - earlier + COUNT_MODULUS) % COUNT_MODULUS;
}

/** An `h` attribute as XEP-0198 defines it (an unsigned 32-bit integer in decimal), or null. */
export function parseCount(text: string | undefined): number | null {
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n < COUNT_MODULUS ? n : null;
}
