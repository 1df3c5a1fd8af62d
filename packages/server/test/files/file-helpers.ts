// Helpers for the file tests: uploads over real HTTP (declared length or chunked), links, and
// image fixtures with metadata built byte by byte.
import { request, type ClientRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AuditEventRecord } from '../../src/store/types.js';
import type { TestRelay } from '../helpers.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => unknown;
}

/**
 * Starts a PUT of `url` and leaves it open: write the body to `request` and end it; `answer`
 * resolves with the relay's answer (which may come before the body was all sent).
 */
export function openUpload(
  url: string,
  token: string,
  options: { declaredBytes?: number; contentType?: string } = {},
): { request: ClientRequest; answer: Promise<HttpAnswer> } {
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'content-type': options.contentType ?? 'application/octet-stream',
  };
  if (options.declaredBytes !== undefined)
    headers['content-length'] = String(options.declaredBytes);
  const req = request(url, { method: 'PUT', headers });
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: all,
          json: () => JSON.parse(all.toString('utf8')) as unknown,
        });
      });
    });
    // A refused upload may be answered (and closed) before all of it was sent.
    req.on('error', reject);
  });
  return { request: req, answer };
}

/**
 * PUTs `body` to `url`: with Content-Length, or chunked (no declared length) in pieces of
 * `chunkBytes`, so the relay's own streaming limit is what stops it.
 */
export function put(
  url: string,
  token: string,
  body: Buffer,
  options: { chunked?: boolean; contentType?: string; chunkBytes?: number } = {},
): Promise<HttpAnswer> {
  const { request: req, answer } = openUpload(url, token, {
    ...(options.chunked ? {} : { declaredBytes: body.length }),
    ...(options.contentType ? { contentType: options.contentType } : {}),
  });
  const step = options.chunkBytes ?? 64 * 1024;
  for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
  req.end();
  return answer;
}

export async function get(url: string): Promise<HttpAnswer> {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
    json: () => JSON.parse(body.toString('utf8')) as unknown,
  };
}

export async function link(
  base: string,
  token: string,
  fileId: string,
): Promise<{
  status: number;
  body: { url?: string; expiresAt?: string; error?: { code: string } };
}> {
  const response = await fetch(`${base}/files/${fileId}/link`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    body: (await response.json()) as { url?: string; error?: { code: string } },
  };
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    const full = path.join(dir, name);
    out = statSync(full).isDirectory() ? [...out, ...filesUnder(full)] : [...out, full];
  }
  return out;
}

/** Which files under `dir` contain `needle` (the SQLite file and its WAL included). */
export function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return filesUnder(dir).filter((file) => readFileSync(file).includes(bytes));
}

const segment = (marker: number, payload: Buffer) => {
  const header = Buffer.alloc(4);
  header[0] = 0xff;
  header[1] = marker;
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
};

/** The pieces of a small JPEG whose APP1 (EXIF) segment holds a GPS position. */
export function jpegWithGps(gps: string): { file: Buffer; withoutExif: Buffer } {
  const soi = Buffer.from([0xff, 0xd8]);
  const app0 = segment(
    0xe0,
    Buffer.from('JFIF\u0000\u0001\u0001\u0000\u0000\u0001\u0000\u0001\u0000\u0000', 'latin1'),
  );
  const exif = segment(
    0xe1,
    Buffer.concat([Buffer.from('Exif\u0000\u0000MM\u0000*', 'latin1'), Buffer.from(gps, 'utf8')]),
  );
  const dqt = segment(0xdb, Buffer.alloc(65, 1));
  const scan = Buffer.concat([
    segment(0xda, Buffer.from([1, 1, 0, 0, 63, 0])),
    Buffer.alloc(5000, 0x55),
    Buffer.from([0xff, 0xd9]),
  ]);
  return {
    file: Buffer.concat([soi, app0, exif, dqt, scan]),
    withoutExif: Buffer.concat([soi, app0, dqt, scan]),
  };
}

const chunk = (type: string, data: Buffer) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  // The CRC is not checked by the relay; a fixed one keeps the fixture short.
  return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4, 0xab)]);
};

/** A PNG with a tEXt chunk holding `text`, and the same PNG without it. */
export function pngWithText(text: string): { file: Buffer; withoutText: Buffer } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = chunk('IHDR', Buffer.alloc(13, 1));
  const textChunk = chunk('tEXt', Buffer.from(`Comment\u0000${text}`, 'latin1'));
  const idat = chunk('IDAT', Buffer.alloc(3000, 7));
  const iend = chunk('IEND', Buffer.alloc(0));
  return {
    file: Buffer.concat([signature, ihdr, textChunk, idat, iend]),
    withoutText: Buffer.concat([signature, ihdr, idat, iend]),
  };
}

/**
 * The development tenant's `file.refused` entries, once there are at least `count` of them
 * (refusals are recorded without holding up the answer).
 */
export async function refusedUploads(relay: TestRelay, count: number): Promise<AuditEventRecord[]> {
  const refused = async () =>
    (await relay.relay.store.listAuditEvents('dev', {}, 0, 1000)).filter(
      (e) => e.action === 'file.refused',
    );
  let found = await refused();
  for (let tries = 0; found.length < count; tries++) {
    if (tries > 200)
      throw new Error(`${String(found.length)} of ${String(count)} refusals audited`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    found = await refused();
  }
  return found;
}

const u16 = (value: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
};
const u32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
};
/** An ISO BMFF box: its 32-bit size, its type and its contents. */
const box = (type: string, ...contents: Buffer[]) => {
  const body = Buffer.concat(contents);
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]);
};
/** A box with a version and (zero) flags before its contents. */
const fullBox = (type: string, version: number, ...contents: Buffer[]) =>
  box(type, Buffer.from([version, 0, 0, 0]), ...contents);
const cstring = (text: string) => Buffer.from(`${text}\u0000`, 'utf8');
const infe = (id: number, itemType: string, contentType?: string) =>
  fullBox(
    'infe',
    2,
    u16(id),
    u16(0),
    Buffer.from(itemType, 'latin1'),
    cstring(''),
    contentType === undefined ? Buffer.alloc(0) : cstring(contentType),
  );

/** Box builders, for tests that make HEIC structures of their own. */
export const bmff = { box, fullBox, u16, u32, infe };

export interface HeicFixture {
  file: Buffer;
  /** The same file with the Exif and XMP items' bytes (and unread boxes' contents) zeroed. */
  stripped: Buffer;
}

/**
 * A HEIC-like file built box by box: `ftyp` (brand heic), `meta` (hdlr, pitm, iinf with an
 * image, an Exif and an XMP item, iloc pointing at them) and `mdat` holding the three; the Exif
 * and XMP items carry `marker` beside a GPS position. The image item is random bytes: the relay
 * never decodes pixels. Options move things where a relay cannot strip them safely.
 */
export function heicWithMetadata(
  marker: string,
  options: {
    /** Where the Exif item is: in mdat (file offsets) or in the meta box's idat. */
    exifIn?: 'mdat' | 'idat';
    /** The meta box after mdat, so its items have gone by when it is read. */
    metaAfterMdat?: boolean;
    /** Overrides the Exif item's construction method (2: made from other items). */
    exifConstruction?: number;
    /** A `free` box of this many bytes inside meta (and one of 100 bytes after mdat). */
    freeBytes?: number;
  } = {},
): HeicFixture {
  const image = randomBytes(6000);
  const exif = Buffer.concat([
    u32(0),
    Buffer.from(`MM\u0000*GPSLatitude=40.7128N;GPSLongitude=74.0060W;${marker}`, 'latin1'),
  ]);
  const xmp = Buffer.from(
    `<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>40,42.77N</exif:GPSLatitude><dc:description>${marker}</dc:description></x:xmpmeta>`,
    'utf8',
  );
  const inIdat = options.exifIn === 'idat';
  const exifMethod = options.exifConstruction ?? (inIdat ? 1 : 0);
  const ftyp = box(
    'ftyp',
    Buffer.from('heic', 'latin1'),
    u32(0),
    Buffer.from('mif1heic', 'latin1'),
  );
  const mdatContents = inIdat ? [image, xmp] : [image, exif, xmp];
  const mdat = box('mdat', ...mdatContents);
  const leftover = options.freeBytes === undefined ? undefined : Buffer.alloc(100, 0x47);
  // iloc version 1: 4-byte offsets and lengths, no base offset, one extent per item.
  const location = (id: number, method: number, offset: number, length: number) =>
    Buffer.concat([u16(id), u16(method), u16(0), u16(1), u32(offset), u32(length)]);
  const buildMeta = (mdatData: number) => {
    const exifAt = inIdat ? 0 : mdatData + image.length;
    const xmpAt = mdatData + image.length + (inIdat ? 0 : exif.length);
    return fullBox(
      'meta',
      0,
      fullBox('hdlr', 0, u32(0), Buffer.from('pict', 'latin1'), Buffer.alloc(12), cstring('')),
      fullBox('pitm', 0, u16(1)),
      fullBox(
        'iloc',
        1,
        Buffer.from([0x44, 0x00]),
        u16(3),
        location(1, 0, mdatData, image.length),
        location(2, exifMethod, exifAt, exif.length),
        location(3, 0, xmpAt, xmp.length),
      ),
      fullBox(
        'iinf',
        0,
        u16(3),
        infe(1, 'hvc1'),
        infe(2, 'Exif'),
        infe(3, 'mime', 'application/rdf+xml'),
      ),
      ...(inIdat ? [box('idat', exif)] : []),
      ...(options.freeBytes === undefined
        ? []
        : [box('free', Buffer.alloc(options.freeBytes, 0x46))]),
    );
  };
  const metaBytes = buildMeta(0).length;
  const mdatData = ftyp.length + (options.metaAfterMdat ? 0 : metaBytes) + 8;
  const meta = buildMeta(mdatData);
  const tail = leftover ? [box('free', leftover)] : [];
  const file = Buffer.concat(
    options.metaAfterMdat ? [ftyp, mdat, meta, ...tail] : [ftyp, meta, mdat, ...tail],
  );
  const stripped = Buffer.from(file);
  const zero = (part: Buffer, from = 0) => {
    const at = file.indexOf(part, from);
    stripped.fill(0, at, at + part.length);
  };
  zero(exif);
  zero(xmp);
  if (options.freeBytes !== undefined) zero(Buffer.alloc(options.freeBytes, 0x46));
  if (leftover) zero(leftover, ftyp.length + meta.length + mdat.length);
  return { file, stripped };
}
