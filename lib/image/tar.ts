/**
 * Reading a tar stream as it arrives (ustar and GNU headers, pax and GNU long names), with the semantics of
 * tar-stream's extractor, which husk used before: each entry's header, then its content as views into the
 * chunks read (no copy, no stream per entry). Loading tar-stream and its dependencies cost every pull 16 ms;
 * writing tar stays with it (pack.ts, archive.ts).
 */

/** An entry's header, with the long names and pax path, linkpath and size applied. */
export interface TarHeader {
  name: string;
  /** tar-stream's names for the types; null for a type it does not know. */
  type: TarType | null;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname: string | null;
  devmajor: number;
  devminor: number;
}

export type TarType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo"
  | "contiguous-file";

/** An entry: its header and content, to be read (or not) before the next entry is asked for. */
export interface TarEntry {
  header: TarHeader;
  content(): AsyncGenerator<Uint8Array>;
}

const BLOCK = 512;
/** The largest pax or GNU long-name header accepted (tar-stream's limit). */
const MAX_LONG_HEADER = 4 * 1024 * 1024;

const TYPES: Record<number, TarType> = {
  0: "file",
  1: "link",
  2: "symlink",
  3: "character-device",
  4: "block-device",
  5: "directory",
  6: "fifo",
  7: "contiguous-file",
};
/** Type flags of the headers that describe the next entry: pax, pax global, GNU long link and long name. */
const PAX = 72, PAX_GLOBAL = 55, GNU_LONG_LINK = 27, GNU_LONG_NAMES = [28, 30];

const utf8 = new TextDecoder();
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72];

/** A corrupt or truncated tar stream. */
export class TarError extends Error {
  override name = "TarError";
}

/** The chunks read and not yet consumed. */
class Bytes {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #source: AsyncIterator<Uint8Array>;
  #ended = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  /** Reads until `n` bytes are buffered; false if the stream ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.#size < n && !this.#ended) {
      const { value, done } = await this.#source.next();
      if (done) this.#ended = true;
      else if (value.length > 0) {
        this.#chunks.push(value);
        this.#size += value.length;
      }
    }
    return this.#size >= n;
  }

  get buffered(): number {
    return this.#size;
  }

  /** Up to `n` buffered bytes, as a view into one chunk. */
  view(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.length <= n) {
      this.#chunks.shift();
      this.#size -= first.length;
      return first;
    }
    this.#chunks[0] = first.subarray(n);
    this.#size -= n;
    return first.subarray(0, n);
  }

  /** `n` buffered bytes in one buffer (copied only when they span chunks). */
  take(n: number): Uint8Array {
    const first = this.view(n);
    if (first.length === n) return first;
    const all = new Uint8Array(n);
    all.set(first);
    for (let at = first.length; at < n;) {
      const part = this.view(n - at);
      all.set(part, at);
      at += part.length;
    }
    return all;
  }

  /** Drops `n` bytes, reading as needed; false if the stream ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (!(await this.fill(1))) return false;
      n -= this.view(n).length;
    }
    return true;
  }
}

const unexpectedEnd = () => new TarError("unexpected end of tar data");

/** The entries of the tar stream `source`; the stream must end on a block boundary after its last entry. */
export async function* tarEntries(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const bytes = new Bytes(source);
  let longName: string | null = null, longLink: string | null = null;
  let pax: Record<string, string> | null = null, paxGlobal: Record<string, string> | null = null;
  while (await bytes.fill(1)) {
    if (!(await bytes.fill(BLOCK))) throw unexpectedEnd();
    const header = decodeHeader(bytes.take(BLOCK));
    if (header === null) continue; // a zero block: end-of-archive marks and padding
    const { flag, size } = header;
    if (flag === PAX || flag === PAX_GLOBAL || flag === GNU_LONG_LINK || GNU_LONG_NAMES.includes(flag)) {
      if (size > MAX_LONG_HEADER) throw new TarError(`tar header of ${size} bytes: too large`);
      if (!(await bytes.fill(size))) throw unexpectedEnd();
      const data = size > 0 ? bytes.take(size) : new Uint8Array();
      if (!(await bytes.skip(padding(size)))) throw unexpectedEnd();
      if (flag === PAX) pax = { ...paxGlobal, ...decodePax(data) };
      else if (flag === PAX_GLOBAL) paxGlobal = decodePax(data);
      else if (flag === GNU_LONG_LINK) longLink = decodeString(data);
      else longName = decodeString(data);
      continue;
    }
    const entry = header.entry;
    if (longName !== null) entry.name = longName;
    if (longLink !== null) entry.linkname = longLink;
    if (pax?.path) entry.name = pax.path;
    if (pax?.linkpath) entry.linkname = pax.linkpath;
    if (pax?.size) entry.size = parseInt(pax.size, 10);
    longName = longLink = pax = null;
    if (!(entry.size >= 0)) {
      throw new TarError(`invalid tar header for "${entry.name}": its size is not valid`);
    }
    // As tar-stream: a directory's size is not content.
    let remaining = entry.type === "directory" ? 0 : entry.size;
    yield {
      header: entry,
      async *content() {
        while (remaining > 0) {
          if (!(await bytes.fill(1))) throw unexpectedEnd();
          const chunk = bytes.view(remaining);
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    if (!(await bytes.skip(remaining + padding(entry.type === "directory" ? 0 : entry.size)))) {
      throw unexpectedEnd();
    }
  }
  if (bytes.buffered > 0) throw unexpectedEnd();
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** A header block; null for a block of zeros. */
function decodeHeader(block: Uint8Array): { flag: number; size: number; entry: TarHeader } | null {
  let sum = 8 * 0x20; // the checksum field itself counts as spaces
  for (let i = 0; i < 148; i++) sum += block[i];
  for (let i = 156; i < BLOCK; i++) sum += block[i];
  if (sum === 8 * 0x20) return null;
  if (sum !== decodeNumber(block, 148, 8)) {
    throw new TarError("invalid tar header (bad checksum): a corrupt layer, or one still compressed?");
  }
  const ustar = USTAR.every((b, i) => block[257 + i] === b);
  const posix = ustar && block[262] === 0;
  const gnu = ustar && block[262] === 0x20 && block[263] === 0x20 && block[264] === 0;
  if (!posix && !gnu) throw new TarError("invalid tar header: not a ustar or GNU tar header");
  let flag = block[156] === 0 ? 0 : block[156] - 0x30;
  let name = decodeString(block, 0, 100);
  if (posix && block[345] !== 0) name = `${decodeString(block, 345, 155)}/${name}`;
  // Old tars mark a directory by a trailing slash only.
  if (flag === 0 && name.endsWith("/")) flag = 5;
  const size = decodeNumber(block, 124, 12);
  return {
    flag,
    size,
    entry: {
      name,
      type: TYPES[flag] ?? null,
      mode: decodeNumber(block, 100, 8),
      uid: decodeNumber(block, 108, 8),
      gid: decodeNumber(block, 116, 8),
      size,
      mtime: new Date(1000 * decodeNumber(block, 136, 12)),
      linkname: block[157] === 0 ? null : decodeString(block, 157, 100),
      devmajor: decodeNumber(block, 329, 8),
      devminor: decodeNumber(block, 337, 8),
    },
  };
}

/** A NUL-terminated UTF-8 field. */
function decodeString(block: Uint8Array, at = 0, length = block.length): string {
  const field = block.subarray(at, at + length);
  const end = field.indexOf(0);
  return utf8.decode(end === -1 ? field : field.subarray(0, end));
}

/** A numeric field: octal digits (space or NUL padded), or base 256 when its first byte's top bit is set. */
function decodeNumber(block: Uint8Array, at: number, length: number): number {
  const field = block.subarray(at, at + length);
  if (field[0] & 0x80) {
    if (field[0] !== 0x80 && field[0] !== 0xff) return NaN;
    const negative = field[0] === 0xff;
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (negative ? 0xff - field[i] : field[i]);
    return negative ? -value : value;
  }
  let i = 0;
  while (i < field.length && (field[i] === 0x20 || field[i] === 0)) i++;
  let value = 0;
  for (; i < field.length && field[i] >= 0x30 && field[i] <= 0x37; i++) value = value * 8 + field[i] - 0x30;
  return value;
}

/** pax records: "LENGTH KEY=VALUE\n" each. */
function decodePax(data: Uint8Array): Record<string, string> {
  const records: Record<string, string> = {};
  for (let at = 0; at < data.length;) {
    const space = data.indexOf(0x20, at);
    const length = space === -1 ? 0 : parseInt(utf8.decode(data.subarray(at, space)), 10);
    if (!(length > 0)) break;
    const record = utf8.decode(data.subarray(space + 1, at + length - 1));
    const equals = record.indexOf("=");
    if (equals === -1) break;
    records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}
