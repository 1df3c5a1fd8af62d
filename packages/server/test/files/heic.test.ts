// HEIC pictures lose their Exif and XMP items on the way in (issue 8): the items' bytes are zeroed
// where they stand, whatever the chunking, and a file whose metadata cannot be found before it
// streams past is refused instead of stored with it.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEIC_META_MAX_BYTES, MetadataError } from '../../src/files/heic.js';
import { metadataFilter } from '../../src/files/strip.js';
import { seedConversation, startRelay, type TestRelay } from '../helpers.js';
import { bmff, get, heicWithMetadata, link, put, refusedUploads } from './file-helpers.js';

const MARKER = 'CT-LOCATION-MARKER-7f3a';

/** The filter's output for `file` fed in pieces cut at `cuts`. */
function stripInPieces(file: Buffer, cuts: number[]): Buffer {
  const filter = metadataFilter('image/heic');
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, file.length]) {
    out.push(...filter.write(file.subarray(from, cut)));
    from = cut;
  }
  out.push(...filter.end());
  return Buffer.concat(out);
}

const byteByByte = (file: Buffer) =>
  stripInPieces(
    file,
    Array.from({ length: file.length }, (_, i) => i),
  );

describe('the HEIC filter', () => {
  it('zeroes the Exif and XMP items in place, one byte at a time as in one piece', () => {
    for (const exifIn of ['mdat', 'idat'] as const) {
      const { file, stripped } = heicWithMetadata(MARKER, { exifIn, freeBytes: 64 });
      expect(file.includes(MARKER)).toBe(true);
      for (const out of [stripInPieces(file, []), byteByByte(file)]) {
        expect(out.length, exifIn).toBe(file.length);
        expect(out.includes(MARKER), exifIn).toBe(false);
        expect(out.includes('GPSLatitude'), exifIn).toBe(false);
        expect(out.equals(stripped), exifIn).toBe(true);
      }
    }
  });

  it('gives the same bytes however the stream is cut', () => {
    const { file, stripped } = heicWithMetadata(MARKER, { freeBytes: 16 });
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: file.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          expect(
            stripInPieces(
              file,
              cuts.sort((a, b) => a - b),
            ).equals(stripped),
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on damaged files, keeps the length or refuses with a reason, never fails otherwise', () => {
    const { file } = heicWithMetadata(MARKER, { exifIn: 'idat' });
    const metaEnd = 24 + file.readUInt32BE(24) + 16;
    fc.assert(
      fc.property(
        // Damage in the boxes' headers and the meta box, where the filter reads.
        fc.array(fc.tuple(fc.integer({ min: 0, max: metaEnd }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: file.length }),
        fc.uniqueArray(fc.integer({ min: 1, max: file.length - 1 }), { maxLength: 8 }),
        (damage, length, cuts) => {
          const damaged = Buffer.from(file.subarray(0, length));
          for (const [at, byte] of damage) if (at < damaged.length) damaged[at] = byte;
          try {
            const out = stripInPieces(
              damaged,
              cuts.filter((cut) => cut < damaged.length).sort((a, b) => a - b),
            );
            expect(out.length).toBe(damaged.length);
          } catch (error) {
            expect(error).toBeInstanceOf(MetadataError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses what it cannot strip safely, at the point it knows', () => {
    const refusal = (file: Buffer) => {
      try {
        byteByByte(file);
      } catch (error) {
        expect(error).toBeInstanceOf(MetadataError);
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal(heicWithMetadata(MARKER, { metaAfterMdat: true }).file)).toMatch(
      /comes before the box that describes it/,
    );
    expect(refusal(heicWithMetadata(MARKER, { exifConstruction: 2 }).file)).toMatch(
      /made from other items/,
    );
    expect(refusal(heicWithMetadata(MARKER, { freeBytes: HEIC_META_MAX_BYTES }).file)).toMatch(
      /larger than 1 MiB/,
    );
    // A box that could hold a location we do not look into (a sequence's moov/udta).
    const { file } = heicWithMetadata(MARKER);
    const moov = Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('moov'), randomBytes(8)]);
    expect(refusal(Buffer.concat([file, moov]))).toMatch(/holds a "moov" box/);
  });

  it('reads a hostile item location box in time proportional to its size', () => {
    // Fields of zero bytes: 65,535 extents per item that take no room, for 20,000 items.
    const { box, fullBox, u16, u32, infe } = bmff;
    const item = (id: number) => Buffer.concat([u16(id), u16(0), u16(0), u16(0xffff)]);
    const iloc = fullBox(
      'iloc',
      1,
      Buffer.from([0x00, 0x00]),
      u16(20_000),
      ...Array.from({ length: 20_000 }, (_, i) => item(i + 1)),
    );
    const file = Buffer.concat([
      box('ftyp', Buffer.from('heic', 'latin1'), u32(0), Buffer.from('mif1', 'latin1')),
      fullBox('meta', 0, fullBox('iinf', 0, u16(1), infe(20_000, 'Exif')), iloc),
      box('mdat', randomBytes(100)),
    ]);
    const started = performance.now();
    expect(() => stripInPieces(file, [])).toThrow(/no stated length/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses an oversized meta box from its header, before holding any of it', () => {
    const filter = metadataFilter('image/heic');
    const { file } = heicWithMetadata(MARKER);
    filter.write(file.subarray(0, file.readUInt32BE(0))); // ftyp
    const header = Buffer.alloc(8);
    header.writeUInt32BE(HEIC_META_MAX_BYTES + 1);
    header.write('meta', 4, 'latin1');
    expect(() => filter.write(header)).toThrow(MetadataError);
  });
});

describe('HEIC uploads', () => {
  let relay: TestRelay;
  beforeEach(async () => {
    relay = await startRelay();
    await seedConversation(relay, 'c1', [{ userId: 'alice', role: 'patient' }]);
  });
  afterEach(async () => {
    await relay.close();
  });
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  async function roundTrip(file: Buffer) {
    const alice = await relay.token('alice', 'patient');
    const id = `heic-${randomBytes(6).toString('hex')}`;
    const stored = await put(
      `${relay.url}/files/${id}?conversationId=c1&name=IMG_0001.HEIC`,
      alice,
      file,
      { chunkBytes: 777 },
    );
    expect(stored.status, stored.body.toString()).toBe(201);
    const answer = await link(relay.url, alice, id);
    const downloaded = await get(answer.body.url ?? '');
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers['content-type']).toBe('image/heic');
    return { view: (stored.json() as { file: { size: number; sha256: string } }).file, downloaded };
  }

  it('stores and serves a HEIC without its Exif and XMP, size and sha256 of what is served', async () => {
    const { file, stripped } = heicWithMetadata(MARKER);
    const { view, downloaded } = await roundTrip(file);
    expect(downloaded.body.equals(stripped)).toBe(true);
    expect(view).toMatchObject({ size: file.length, sha256: sha256(stripped) });
  });

  it('strips a real HEIC with GPS, Exif and XMP (heif-enc, then exiftool)', async () => {
    // test/files/fixtures/gps.heic: a 64x64 picture made with `heif-enc` (libheif 1.15), then
    // `exiftool -GPSLatitude=40.7128 -GPSLongitude=74.0060 -GPSAreaInformation=CT-GPS-AREA-…
    // -Artist=CT-EXIF-ARTIST -XMP-dc:Description=CT-XMP-DESCRIPTION`.
    const file = readFileSync(new URL('fixtures/gps.heic', import.meta.url));
    expect(file.includes('CT-EXIF-ARTIST')).toBe(true);
    const { view, downloaded } = await roundTrip(file);
    for (const marker of ['CT-EXIF-ARTIST', 'CT-GPS-AREA', 'CT-XMP-DESCRIPTION', 'MM\u0000*'])
      expect(downloaded.body.includes(marker), marker).toBe(false);
    // Only metadata bytes changed, and only to zeros: the picture's own bytes are as they were.
    expect(downloaded.body.length).toBe(file.length);
    const changed = [...file.keys()].filter((i) => downloaded.body[i] !== file[i]);
    expect(changed.every((i) => downloaded.body[i] === 0)).toBe(true);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(284 + 2882); // the Exif and XMP items' sizes
    expect(view.sha256).toBe(sha256(downloaded.body));
  });

  it('refuses a HEIC whose metadata comes after its picture, keeps nothing, and audits it', async () => {
    const { file } = heicWithMetadata(MARKER, { metaAfterMdat: true });
    const id = `heic-${randomBytes(6).toString('hex')}`;
    const refused = await put(
      `${relay.url}/files/${id}?conversationId=c1&name=IMG_0002.HEIC`,
      await relay.token('alice', 'patient'),
      file,
    );
    expect(refused.status).toBe(415);
    const { error } = refused.json() as { error: { code: string; message: string } };
    expect(error.code).toBe('UNSUPPORTED_FILE_TYPE');
    expect(error.message).toMatch(
      /^This picture cannot be shared as it is: .*location and camera details .* JPEG or PNG/,
    );
    expect(await relay.relay.store.getFile('dev', id)).toBeUndefined();
    const [entry] = await refusedUploads(relay, 1);
    expect(entry?.detail).toMatchObject({ code: 'UNSUPPORTED_FILE_TYPE', type: 'image/heic' });
  });
});
