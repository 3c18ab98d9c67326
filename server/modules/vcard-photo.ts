// A vCard's photo (XEP-0054 PHOTO) as XEP-0153 names it: the image in base64 and the SHA-1
// in hex of its decoded bytes, the hash clients compare. Shared by the accounts' avatar
// conversion (XEP-0398, pep/avatar-conversion.ts) and the rooms' avatars (XEP-0486).
import { createHash } from 'node:crypto';
import type { Element } from '../xml/element.ts';

export interface VcardPhoto {
  type: string;
  base64: string;
  hash: string;
}

/** XEP-0153's hash of an image: SHA-1 in hex. */
export const avatarHash = (bytes: Buffer): string => createHash('sha1').update(bytes).digest('hex');

/** The photo of one PHOTO element; null without one or without image data. */
export function vcardPhoto(photo: Element | undefined): VcardPhoto | null {
  const base64 = (photo?.getChildText('BINVAL') ?? '').replace(/\s+/g, '');
  if (!photo || !base64) return null;
  return { type: photo.getChildText('TYPE')?.trim() || 'image/png', base64, hash: avatarHash(Buffer.from(base64, 'base64')) };
}
