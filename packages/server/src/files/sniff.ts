// Decides a file's type from its first bytes (magic numbers), never from its name or the type a
// client declares. Only the types a tenant may allow are known; anything else is undefined.
import type { FileType } from './types.js';

/** How many leading bytes `sniff` needs to decide (plain text is judged on these). */
export const SNIFF_BYTES = 4096;

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0) =>
  head.length >= at + bytes.length && bytes.every((b, i) => head[at + i] === b);

/**
 * Plain text: valid UTF-8 (a sequence cut by the end of the sample is allowed) with no control
 * characters besides tab, line feed, form feed and carriage return. So a binary renamed .txt fails.
 */
function isPlainText(head: Uint8Array, complete: boolean): boolean {
  if (head.length === 0) return false;
  for (const byte of head)
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d)
      return false;
    else if (byte === 0x7f) return false;
  let sample = head;
  if (!complete) {
    // Drop a trailing sequence the sample may have cut in half (at most three bytes).
    let cut = sample.length;
    for (let i = 1; i <= 3 && sample.length - i >= 0; i++) {
      const byte = sample[sample.length - i] ?? 0;
      if ((byte & 0xc0) === 0xc0) {
        cut = sample.length - i;
        break;
      }
      if ((byte & 0x80) === 0) break;
    }
    sample = sample.subarray(0, cut);
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample);
    return true;
  } catch {
    return false;
  }
}

/**
 * The type of a file from its first bytes (`head`, up to SNIFF_BYTES; `complete` when that is
 * the whole file).
 * @example sniff(Buffer.from('%PDF-1.7\n'), true) // 'application/pdf'
 */
export function sniff(head: Uint8Array, complete: boolean): FileType | undefined {
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  // ISO BMFF: a box size, then "ftyp" and the major brand.
  if (startsWith(head, [0x66, 0x74, 0x79, 0x70], 4) && head.length >= 12) {
    const brand = Buffer.from(head.subarray(8, 12)).toString('latin1');
    return HEIC_BRANDS.has(brand) ? 'image/heic' : undefined;
  }
  return isPlainText(head, complete) ? 'text/plain' : undefined;
}
