// Removes metadata from images while they stream through, without decoding a pixel: JPEG APP1
// (EXIF, with its GPS position, and XMP) and APP13 (IPTC) segments; PNG eXIf, tEXt, iTXt and zTXt
// chunks; in HEIC, the bytes of its Exif and XMP items, overwritten with zeros in place (their
// lengths kept, so every offset in the file stays valid). Everything else passes unchanged.
import { heicFilter } from './heic.js';
import type { FileType } from './types.js';

/** A synchronous filter over a byte stream: what to pass on for each piece, and at the end. */
export interface ByteFilter {
  write(chunk: Buffer): Buffer[];
  end(): Buffer[];
}

/** What the next segment is, once enough bytes of its header are there (undefined: need more). */
type Header = (head: Buffer) => { length: number; keep: boolean; rest?: boolean } | undefined;

function segmentFilter(header: Header): ByteFilter {
  let pending = Buffer.alloc(0);
  let remaining = 0;
  let keep = true;
  let rest = false;
  return {
    write(chunk) {
      const out: Buffer[] = [];
      let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      while (buf.length > 0) {
        if (rest) {
          out.push(buf);
          buf = Buffer.alloc(0);
          break;
        }
        if (remaining > 0) {
          const n = Math.min(remaining, buf.length);
          if (keep) out.push(buf.subarray(0, n));
          buf = buf.subarray(n);
          remaining -= n;
          continue;
        }
        const next = header(buf);
        if (!next) break;
        ({ length: remaining, keep } = next);
        rest = next.rest ?? false;
      }
      pending = Buffer.from(buf);
      return out;
    },
    // A truncated segment header at the very end is passed on as it came.
    end: () => (pending.length > 0 ? [pending] : []),
  };
}

/** JPEG markers that carry a position, a camera serial or a description: APP1 and APP13. */
const JPEG_DROPPED = new Set([0xe1, 0xed]);

function jpegFilter(): ByteFilter {
  let started = false;
  return segmentFilter((head) => {
    if (!started) {
      started = true;
      return { length: 2, keep: true }; // SOI
    }
    if (head.length < 2) return undefined;
    if (head[0] !== 0xff) return { length: 0, keep: true, rest: true }; // not a marker: leave it
    const marker = head[1] ?? 0;
    if (marker === 0xff) return { length: 1, keep: true }; // fill byte
    // Start of scan or end of image: what follows is image data, passed as it is.
    if (marker === 0xda || marker === 0xd9) return { length: 0, keep: true, rest: true };
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) return { length: 2, keep: true };
    if (head.length < 4) return undefined;
    const length = 2 + head.readUInt16BE(2);
    return { length, keep: !JPEG_DROPPED.has(marker) };
  });
}

const PNG_DROPPED = new Set(['eXIf', 'tEXt', 'iTXt', 'zTXt']);

function pngFilter(): ByteFilter {
  let started = false;
  return segmentFilter((head) => {
    if (!started) {
      started = true;
      return { length: 8, keep: true }; // signature
    }
    if (head.length < 8) return undefined;
    const type = head.subarray(4, 8).toString('latin1');
    // length, type, data, CRC
    return { length: 12 + head.readUInt32BE(0), keep: !PNG_DROPPED.has(type) };
  });
}

const passThrough = (): ByteFilter => ({ write: (chunk) => [chunk], end: () => [] });

/**
 * The filter that removes metadata from files of `type` (a pass-through for other types).
 * @example const filter = metadataFilter('image/jpeg'); filter.write(chunk) // chunks to keep
 */
export function metadataFilter(type: FileType): ByteFilter {
  if (type === 'image/jpeg') return jpegFilter();
  if (type === 'image/png') return pngFilter();
  if (type === 'image/heic') return heicFilter();
  return passThrough();
}
