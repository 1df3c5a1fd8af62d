// The example host portal's web server: a demo sign-in kept in an HttpOnly cookie, the token
// endpoint the chat calls with that cookie, and the built page, served under a strict CSP.
import { createReadStream, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { DevSigningKey } from '@carethread/server';
import { DEMO_CONVERSATION, personaById, personas, type Persona } from './personas.js';
import { mintPersonaToken } from './seed.js';

const COOKIE = 'portal_user';
const TOKEN_TTL_SECONDS = 10 * 60;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface PortalOptions {
  /** Folder with the built page (index.html and assets/). */
  webRoot: string;
  relayUrl: string;
  devKey: DevSigningKey;
}

function cookieUser(req: IncomingMessage): Persona | undefined {
  const match = /(?:^|;\s*)portal_user=([\w-]+)/.exec(req.headers.cookie ?? '');
  return personaById(match?.[1]);
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 10_000) throw new Error('body too large');
  }
  return body;
}

export function createPortalServer(options: PortalOptions): Server {
  const relay = new URL(options.relayUrl);
  const relayWs = `${relay.protocol === 'https:' ? 'wss' : 'ws'}://${relay.host}`;
  // The page may talk to itself and to the relay only; no inline script or style anywhere.
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${relay.origin} ${relayWs}`,
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');

  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://portal.local');
      if (url.pathname === '/config.json') {
        send(
          res,
          200,
          JSON.stringify({ relayUrl: options.relayUrl, conversation: DEMO_CONVERSATION, personas }),
          'application/json',
        );
        return;
      }
      if (url.pathname === '/session') {
        if (req.method === 'POST') {
          const persona = personaById(
            new URLSearchParams(await readBody(req)).get('user') ?? undefined,
          );
          if (!persona) {
            send(res, 400, 'Unknown user');
            return;
          }
          res.setHeader(
            'set-cookie',
            `${COOKIE}=${persona.sub}; HttpOnly; SameSite=Strict; Path=/`,
          );
          send(res, 200, JSON.stringify(persona), 'application/json');
          return;
        }
        if (req.method === 'DELETE') {
          res.setHeader('set-cookie', `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
          send(res, 204, '');
          return;
        }
        // 200 with null rather than 401: not being signed in yet is normal, not an error.
        send(res, 200, JSON.stringify(cookieUser(req) ?? null), 'application/json');
        return;
      }
      if (url.pathname === '/carethread/token') {
        // The chat calls this with the portal's own cookie; the token lives in the page's memory only.
        const persona = cookieUser(req);
        if (!persona) {
          send(res, 401, 'Not signed in to the portal');
          return;
        }
        const token = await mintPersonaToken(options.devKey, persona, TOKEN_TTL_SECONDS);
        send(res, 200, token);
        return;
      }
      const relative = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
      const file = path.join(options.webRoot, relative);
      if (!file.startsWith(options.webRoot + path.sep) || !existsSync(file)) {
        send(res, 404, 'Not found');
        return;
      }
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-security-policy': csp,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      createReadStream(file).pipe(res);
    })().catch(() => {
      send(res, 500, 'Portal error');
    });
  });
}
