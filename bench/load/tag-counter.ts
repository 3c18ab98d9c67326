// Counts occurrences of a closing tag in a byte stream, chunk by chunk, without decoding or
// copying: the message benchmark needs to know how many stanzas arrived, not what they say.
// A tag split across two chunks is counted once, when its last byte arrives.

export class TagCounter {
  private readonly tag: Buffer;
  /** Bytes of the tag seen at the very end of the previous chunk. */
  private partial = 0;

  /** `tag` must start with '<' and contain no other '<' (any closing tag does). */
  constructor(tag: string) {
    if (!tag.startsWith('<') || tag.indexOf('<', 1) !== -1) throw new Error(`unsupported tag ${tag}`);
    this.tag = Buffer.from(tag, 'latin1');
  }

  count(chunk: Buffer): number {
    const tag = this.tag;
    const len = tag.length;
    let n = 0;
    let pos = 0;
    if (this.partial > 0) {
      const need = len - this.partial;
      const available = Math.min(need, chunk.length);
      let i = 0;
      while (i < available && chunk[i] === tag[this.partial + i]) i++;
      if (i === available) {
        if (available === need) {
          n++;
          pos = need;
          this.partial = 0;
        } else {
          this.partial += available;
          return 0;
        }
      } else {
        this.partial = 0;
      }
    }
    for (;;) {
      const at = chunk.indexOf(tag, pos);
      if (at === -1) break;
      n++;
      pos = at + len;
    }
    // Only one '<' in the tag, so at most one candidate can be a cut-off beginning of it.
    const tail = chunk.lastIndexOf(tag[0]!, chunk.length - 1);
    if (tail >= pos && chunk.length - tail < len) {
      let k = 1;
      while (tail + k < chunk.length && chunk[tail + k] === tag[k]) k++;
      if (tail + k === chunk.length) this.partial = k;
    }
    return n;
  }
}
