// HEIC metadata removal while the file streams (ISO BMFF, ISO/IEC 14496-12 and 23008-12): the
// `meta` box is held until complete, and the bytes of the Exif and XMP items it locates are
// zeroed where they stand as they pass, so every offset stays valid and the picture decodes.
import type { ByteFilter } from './strip.js';

/** Why the metadata of a file cannot be removed safely: such a file is refused, not kept. */
export class MetadataError extends Error {
  override name = 'MetadataError';
}

/** The most of a HEIC `meta` box held in memory to find its items (iPhone photos: a few KiB). */
export const HEIC_META_MAX_BYTES = 1024 * 1024;

/**
 * Top-level boxes a HEIC picture may have. Anything else might hold metadata we do not know
 * about (a `moov` box of a sequence keeps its location in `udta`), so it is refused.
 */
const HEIC_TOP_LEVEL = new Set(['ftyp', 'meta', 'mdat', 'free', 'skip', 'uuid']);
/** Boxes whose contents no decoder reads, blanked in case an editor left metadata in them. */
const HEIC_BLANKED = new Set(['free', 'skip', 'uuid']);

/** A box for a message: "a" and its type when that is four printable characters. */
const boxName = (type: string) => (/^[\x20-\x7e]{4}$/.test(type) ? `a "${type}"` : 'an unnamed');

/** Reads big-endian fields of one box, and refuses to read past its end. */
class BoxReader {
  constructor(
    private readonly buf: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  private take(bytes: number): number {
    if (this.at + bytes > this.end) throw new MetadataError('its metadata box is cut short');
    const at = this.at;
    this.at += bytes;
    return at;
  }

  skip(bytes: number): void {
    this.take(bytes);
  }
  u8 = () => this.buf.readUInt8(this.take(1));
  u16 = () => this.buf.readUInt16BE(this.take(2));
  u32 = () => this.buf.readUInt32BE(this.take(4));
  /** An unsigned field of 0, 4 or 8 bytes, as iloc's sizes say. */
  sized(bytes: number): number {
    if (bytes === 0) return 0;
    if (bytes === 4) return this.u32();
    const value = this.buf.readBigUInt64BE(this.take(8));
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new MetadataError('an item lies beyond any file size');
    return Number(value);
  }
  fourcc(): string {
    const at = this.take(4);
    return this.buf.toString('latin1', at, at + 4);
  }
  /** A NUL-terminated string; one cut by the box's end is taken as it is. */
  cstring(): string {
    const nul = this.buf.subarray(this.at, this.end).indexOf(0);
    const stop = nul === -1 ? this.end : this.at + nul;
    const text = this.buf.toString('utf8', this.at, stop);
    this.at = Math.min(this.end, stop + 1);
    return text;
  }
}

interface Box {
  type: string;
  /** Where its contents start and where it ends, in the buffer. */
  body: number;
  end: number;
}

/** The boxes in `buf` from `at` to `end`, each within it. */
function childBoxes(buf: Buffer, at: number, end: number): Box[] {
  const boxes: Box[] = [];
  while (at < end) {
    const reader = new BoxReader(buf, at, end);
    const size32 = reader.u32();
    const type = reader.fourcc();
    const size = size32 === 1 ? reader.sized(8) : size32 === 0 ? end - at : size32;
    if (size < reader.at - at || at + size > end)
      throw new MetadataError(`${boxName(type)} box in its metadata has a wrong size`);
    boxes.push({ type, body: reader.at, end: at + size });
    at += size;
  }
  return boxes;
}

/** The one child of `type`, if any (two are refused: which one a reader takes is unknown). */
function onlyChild(boxes: Box[], type: string): Box | undefined {
  const found = boxes.filter((box) => box.type === type);
  if (found.length > 1) throw new MetadataError(`its metadata has two "${type}" boxes`);
  return found[0];
}

/** XMP is a `mime` item of this type (ISO/IEC 23008-12, annex A). */
const XMP_CONTENT_TYPE = 'application/rdf+xml';

/** The ids of the items of an `iinf` box that hold metadata: Exif, and XMP. */
function metadataItems(meta: Buffer, iinf: Box): Set<number> {
  const reader = new BoxReader(meta, iinf.body, iinf.end);
  const version = reader.u8();
  reader.skip(3); // flags
  if (version === 0) reader.u16();
  else reader.u32(); // entry count: the entries present are what is read
  const items = new Set<number>();
  for (const infe of childBoxes(meta, reader.at, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const entry = new BoxReader(meta, infe.body, infe.end);
    const infeVersion = entry.u8();
    entry.skip(3);
    // Versions 0 and 1 carry no item type; HEIF requires 2 or 3.
    if (infeVersion !== 2 && infeVersion !== 3)
      throw new MetadataError(
        `it describes an item in an unknown way (version ${String(infeVersion)})`,
      );
    const id = infeVersion === 2 ? entry.u16() : entry.u32();
    entry.u16(); // protection index
    const itemType = entry.fourcc();
    if (itemType === 'Exif') items.add(id);
    else if (itemType === 'mime') {
      entry.cstring(); // item name
      const contentType = entry.cstring().split(';', 1)[0]?.trim().toLowerCase();
      if (contentType === XMP_CONTENT_TYPE) items.add(id);
    }
  }
  return items;
}

interface Extent {
  offset: number;
  length: number;
}

interface ItemLocation {
  id: number;
  constructionMethod: number;
  dataReference: number;
  extents: Extent[];
}

/**
 * The locations of the items in `wanted`, from an `iloc` box (ISO/IEC 14496-12, 8.11.3),
 * versions 0 to 2. Other items' extents are skipped unread, so a hostile box costs only its size.
 */
function itemLocations(meta: Buffer, iloc: Box, wanted: Set<number>): ItemLocation[] {
  const reader = new BoxReader(meta, iloc.body, iloc.end);
  const version = reader.u8();
  reader.skip(3);
  if (version > 2)
    throw new MetadataError(`it locates items in an unknown way (version ${String(version)})`);
  const sizes = reader.u8();
  const offsetSize = sizes >> 4;
  const lengthSize = sizes & 0xf;
  const more = reader.u8();
  const baseOffsetSize = more >> 4;
  const indexSize = version === 0 ? 0 : more & 0xf;
  for (const size of [offsetSize, lengthSize, baseOffsetSize, indexSize])
    if (size !== 0 && size !== 4 && size !== 8)
      throw new MetadataError('it locates items with fields of an unknown size');
  const extentBytes = indexSize + offsetSize + lengthSize;
  const count = version < 2 ? reader.u16() : reader.u32();
  const locations: ItemLocation[] = [];
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? reader.u16() : reader.u32();
    const constructionMethod = version === 0 ? 0 : reader.u16() & 0xf;
    const dataReference = reader.u16();
    const base = reader.sized(baseOffsetSize);
    const extentCount = reader.u16();
    if (!wanted.has(id)) {
      reader.skip(extentCount * extentBytes);
      continue;
    }
    // With no bytes per extent, every extent is the same one: read it once.
    const extents: Extent[] = [];
    for (let e = 0; e < (extentBytes === 0 ? Math.min(extentCount, 1) : extentCount); e++) {
      reader.sized(indexSize);
      const offset = base + reader.sized(offsetSize);
      extents.push({ offset, length: reader.sized(lengthSize) });
    }
    locations.push({ id, constructionMethod, dataReference, extents });
  }
  return locations;
}

/**
 * Overwrites the Exif and XMP items of a complete `meta` box (at file offset `at`): those in its
 * own `idat` here, and returns the ranges of the file (after the box) to blank as they pass.
 */
function stripMeta(meta: Buffer, at: number, headerBytes: number): Extent[] {
  const version = new BoxReader(meta, headerBytes, meta.length).u32() >>> 24;
  if (version !== 0) throw new MetadataError('its metadata box is of an unknown version');
  const children = childBoxes(meta, headerBytes + 4, meta.length);
  for (const box of children) if (HEIC_BLANKED.has(box.type)) meta.fill(0, box.body, box.end);
  const iinf = onlyChild(children, 'iinf');
  const iloc = onlyChild(children, 'iloc');
  const idat = onlyChild(children, 'idat');
  const items = iinf ? metadataItems(meta, iinf) : new Set<number>();
  if (items.size === 0 || !iloc) return [];
  const later: Extent[] = [];
  for (const location of itemLocations(meta, iloc, items)) {
    if (location.dataReference !== 0)
      throw new MetadataError('its metadata is kept in another file');
    for (const { offset, length } of location.extents) {
      // A length of 0 means "to the end", of the file or of idat: not something to blank.
      if (length === 0) throw new MetadataError('its metadata has no stated length');
      if (location.constructionMethod === 0) {
        if (offset < at + meta.length)
          throw new MetadataError('its metadata comes before the box that describes it');
        later.push({ offset, length });
      } else if (location.constructionMethod === 1) {
        if (!idat) throw new MetadataError('its metadata points into a data box it does not have');
        if (idat.body + offset + length > idat.end)
          throw new MetadataError('its metadata lies outside its data box');
        meta.fill(0, idat.body + offset, idat.body + offset + length);
      } else throw new MetadataError('its metadata is made from other items');
    }
  }
  return later;
}

/** File ranges to zero, made disjoint and ordered, passed over as the stream moves on. */
class ZeroRanges {
  private ranges: Extent[] = [];
  private next = 0;

  constructor(ranges: Extent[] = []) {
    for (const range of [...ranges].sort((a, b) => a.offset - b.offset)) {
      const last = this.ranges.at(-1);
      if (last && range.offset <= last.offset + last.length)
        last.length = Math.max(last.length, range.offset + range.length - last.offset);
      else this.ranges.push({ ...range });
    }
  }

  private passTo(at: number): void {
    while (this.next < this.ranges.length) {
      const range = this.ranges[this.next];
      if (!range || range.offset + range.length > at) break;
      this.next++;
    }
  }

  /** Whether any range still ahead touches the file bytes from `from` to `to`. */
  touches(from: number, to: number): boolean {
    this.passTo(from);
    const range = this.ranges[this.next];
    return range !== undefined && range.offset < to;
  }

  /** `piece` (the file's bytes from `at`) with its bytes in a range zeroed: a copy if any were. */
  apply(piece: Buffer, at: number): Buffer {
    this.passTo(at);
    const end = at + piece.length;
    let out = piece;
    for (let i = this.next; i < this.ranges.length; i++) {
      const range = this.ranges[i];
      if (!range || range.offset >= end) break;
      if (out === piece) out = Buffer.from(piece);
      out.fill(0, Math.max(range.offset, at) - at, Math.min(range.offset + range.length, end) - at);
    }
    return out;
  }
}

/**
 * HEIC (ISO BMFF): the top-level boxes pass as they come, except `meta`, which is held (up to
 * HEIC_META_MAX_BYTES) until it is complete, so that its item list (`iinf`) and item locations
 * (`iloc`) say which later bytes are Exif or XMP; those are zeroed as they stream past.
 */
export function heicFilter(): ByteFilter {
  /** The file offset of the next byte in (and out: the length never changes). */
  let at = 0;
  let header = Buffer.alloc(0);
  /** Bytes of the current box's contents still to pass, and whether they are zeroed whole. */
  let remaining = 0;
  let zeroWhole = false;
  let meta: { parts: Buffer[]; have: number; size: number; headerBytes: number } | undefined;
  let sawMeta = false;
  /** The Exif and XMP items' bytes after the `meta` box, once it was read. */
  let items = new ZeroRanges();

  /** Reads a top-level box header once `header` holds all of it. */
  const readHeader = (out: Buffer[]): void => {
    if (header.length < 8) return;
    const size32 = header.readUInt32BE(0);
    const headerBytes = size32 === 1 ? 16 : 8;
    if (header.length < headerBytes) return;
    const type = header.toString('latin1', 4, 8);
    const size =
      size32 === 1 ? new BoxReader(header, 8, 16).sized(8) : size32 === 0 ? Infinity : size32;
    if (size < headerBytes) throw new MetadataError(`${boxName(type)} box has a wrong size`);
    if (!HEIC_TOP_LEVEL.has(type))
      throw new MetadataError(`it holds ${boxName(type)} box, which may carry metadata`);
    if (items.touches(at, at + headerBytes))
      throw new MetadataError('its metadata overlaps the structure of the file');
    if (type === 'meta') {
      if (sawMeta) throw new MetadataError('it has two metadata boxes');
      if (size < headerBytes + 4) throw new MetadataError('its metadata box is cut short');
      if (size > HEIC_META_MAX_BYTES)
        throw new MetadataError(
          `its metadata box is larger than ${String(HEIC_META_MAX_BYTES / 1024 / 1024)} MiB`,
        );
      sawMeta = true;
      meta = { parts: [header], have: headerBytes, size, headerBytes };
    } else {
      out.push(header);
      at += headerBytes;
      remaining = size - headerBytes;
      zeroWhole = HEIC_BLANKED.has(type);
    }
    header = Buffer.alloc(0);
  };

  return {
    write(chunk) {
      const out: Buffer[] = [];
      let buf = chunk;
      while (buf.length > 0) {
        if (meta) {
          const n = Math.min(meta.size - meta.have, buf.length);
          meta.parts.push(buf.subarray(0, n));
          meta.have += n;
          buf = buf.subarray(n);
          if (meta.have === meta.size) {
            const box = Buffer.concat(meta.parts);
            items = new ZeroRanges(stripMeta(box, at, meta.headerBytes));
            out.push(box);
            at += box.length;
            meta = undefined;
          }
        } else if (remaining > 0) {
          const n = Math.min(remaining, buf.length);
          const piece = buf.subarray(0, n);
          out.push(zeroWhole ? Buffer.alloc(n) : items.apply(piece, at));
          at += n;
          remaining -= n;
          buf = buf.subarray(n);
        } else {
          // Take no more than the header needs: 8 bytes, or 16 with a 64-bit size.
          const need = header.length >= 4 && header.readUInt32BE(0) === 1 ? 16 : 8;
          const n = Math.min(need - header.length, buf.length);
          header = Buffer.concat([header, buf.subarray(0, n)]);
          buf = buf.subarray(n);
          readHeader(out);
        }
      }
      return out;
    },
    end() {
      if (meta) throw new MetadataError('the file ends inside its metadata box');
      // A header cut off by the end of the file is passed on as it came.
      return header.length > 0 ? [header] : [];
    },
  };
}
