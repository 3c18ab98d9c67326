// The tar format (POSIX ustar with pax and GNU long names), read and written from memory.
// Plugin archives are bounded by a size limit before they get here, so a whole archive in a
// Buffer is simpler and safer than a stream. The reader reports every entry as it is,
// links and devices included: deciding what is acceptable is archive.ts's job.

const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'block-device' | 'fifo' | 'other';

export interface TarEntry {
  path: string;
  type: TarEntryType;
  /** File contents (empty for anything but files). */
  data: Buffer;
  mode: number;
  /** Target of a link. */
  linkname: string;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'character-device',
  '4': 'block-device', '5': 'directory', '6': 'fifo',
};

function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(block: Buffer, offset: number, length: number, what: string, at: number): number {
  // GNU base-256 for values too large for octal: high bit of the first byte set.
  if (block[offset]! & 0x80) {
    let n = block[offset]! & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + block[offset + i]!;
    if (!Number.isSafeInteger(n)) throw new TarFormatError(`entry at byte ${at}: ${what} is too large`);
    return n;
  }
  const s = text(block, offset, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`entry at byte ${at}: ${what} ${JSON.stringify(s)} is not an octal number`);
  return parseInt(s, 8);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/** Pax extended header records: "LEN key=value\n". */
function paxRecords(data: Buffer, at: number): Map<string, string> {
  const records = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    const len = space === -1 ? NaN : Number(data.subarray(i, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length) throw new TarFormatError(`entry at byte ${at}: malformed pax header`);
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return records;
}

/** Parses a whole tar archive; throws TarFormatError on anything malformed or truncated. */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pending: { path?: string; linkname?: string; size?: number } = {};
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > archive.length) throw new TarFormatError(`truncated archive: no end marker after ${entries.length} entries`);
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return entries; // end of archive (one zero block is enough to stop)
    const at = offset;
    if (octal(header, 148, 8, 'checksum', at) !== checksum(header)) {
      throw new TarFormatError(`entry at byte ${at}: header checksum mismatch (not a tar archive, or corrupt)`);
    }
    const flag = String.fromCharCode(header[156]!);
    const size = pending.size ?? octal(header, 124, 12, 'size', at);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new TarFormatError(`entry at byte ${at}: truncated data (${size} bytes announced)`);
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (flag === 'x') {
      const records = paxRecords(data, at);
      pending = { path: records.get('path'), linkname: records.get('linkpath') };
      const paxSize = records.get('size');
      if (paxSize !== undefined) {
        if (!/^\d+$/.test(paxSize)) throw new TarFormatError(`entry at byte ${at}: pax size ${JSON.stringify(paxSize)} is not a number`);
        pending.size = Number(paxSize);
      }
      continue;
    }
    if (flag === 'g') continue; // global pax defaults: nothing we use
    if (flag === 'L' || flag === 'K') {
      const value = text(data, 0, data.length);
      pending = flag === 'L' ? { ...pending, path: value } : { ...pending, linkname: value };
      continue;
    }
    const magic = header.subarray(257, 262).toString('latin1');
    const prefix = magic === 'ustar' ? text(header, 345, 155) : '';
    const name = text(header, 0, 100);
    entries.push({
      path: pending.path ?? (prefix ? `${prefix}/${name}` : name),
      type: TYPES[flag] ?? 'other',
      data: TYPES[flag] === 'file' ? data : Buffer.alloc(0),
      mode: octal(header, 100, 8, 'mode', at),
      linkname: pending.linkname ?? text(header, 157, 100),
    });
    pending = {};
  }
}

const FLAGS: Record<TarEntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6', other: 'V',
};

export interface TarInput {
  path: string;
  type?: TarEntryType;
  data?: Buffer | string;
  mode?: number;
  linkname?: string;
}

function header(path: string, flag: string, size: number, mode: number, linkname: string, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (value: string, offset: number, length: number): void => void h.write(value, offset, length, 'utf8');
  const num = (value: number, offset: number, length: number): void => put(value.toString(8).padStart(length - 1, '0'), offset, length - 1);
  put(path, 0, 100);
  num(mode, 100, 8);
  num(0, 108, 8);
  num(0, 116, 8);
  num(size, 124, 12);
  num(mtime, 136, 12);
  h.write(flag, 156, 1, 'latin1');
  put(linkname, 157, 100);
  h.write('ustar\x0000', 257, 8, 'latin1');
  put(checksum(h).toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

/** Writes entries as given (no checks: tests use it to build hostile archives too). */
export function writeTar(inputs: readonly TarInput[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const out: Buffer[] = [];
  for (const input of inputs) {
    const type = input.type ?? 'file';
    const data = type === 'file' ? Buffer.from(input.data ?? '') : Buffer.alloc(0);
    const linkname = input.linkname ?? '';
    const mode = input.mode ?? (type === 'directory' ? 0o755 : 0o644);
    // Names that do not fit the 100-byte field (or are not ASCII) go in a pax header.
    if (Buffer.byteLength(input.path) > 100 || Buffer.byteLength(linkname) > 100 || !/^[\x20-\x7e]*$/.test(input.path + linkname)) {
      const record = (key: string, value: string): string => {
        const body = ` ${key}=${value}\n`;
        let len = Buffer.byteLength(body);
        len += String(len + String(len).length).length;
        return `${len}${body}`;
      };
      const pax = Buffer.from(record('path', input.path) + (linkname ? record('linkpath', linkname) : ''));
      out.push(header('PaxHeader', 'x', pax.length, 0o644, '', mtime), ...padded(pax));
    }
    out.push(header(input.path, FLAGS[type], data.length, mode, linkname, mtime), ...padded(data));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}
