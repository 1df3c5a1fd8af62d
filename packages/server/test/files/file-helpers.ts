// Helpers for the file tests: uploads over real HTTP (declared length or chunked), links, and
// image fixtures with metadata built byte by byte.
import { request, type ClientRequest } from 'node:http';
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
