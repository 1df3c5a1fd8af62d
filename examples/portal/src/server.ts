// The example host portal's web server: the page (relay address filled in), the CareThread script
// tag file from @carethread/widget, and the token endpoint the chat elements call, all under a
// strict CSP with Trusted Types required.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { DevSigningKey } from '@carethread/server';
import { DEMO_CONVERSATION, personaById } from './personas.js';
import { mintPersonaToken } from './seed.js';

const TOKEN_TTL_SECONDS = 10 * 60;
/**
 * The script-tag build of the widget, as a host would copy it or load it from a CDN: the script,
 * and the files it loads from beside itself when needed: the consent element, the drawn-signature
 * pad and the Spanish strings.
 */
const resolveWidget = createRequire(import.meta.url).resolve;
const WIDGET_FILES = new Map(
  ['carethread.js', 'carethread-consent.js', 'carethread-signature-pad.js', 'carethread-es.js'].map(
    (name) => [`/${name}`, resolveWidget(`@carethread/widget/${name}`)],
  ),
);
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

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
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
    "img-src 'self' data: blob:",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    // No script on the page may write HTML from strings; the chat element must work under this.
    "require-trusted-types-for 'script'",
    'trusted-types lit-html',
  ].join('; ');
  const headers = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };

  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://portal.local');
      if (url.pathname === '/carethread/token') {
        // A real portal mints for its signed-in user (from its session cookie, which the chat's
        // fetch sends). This demo shows three people on one page, so it takes the person's id.
        const persona = personaById(url.searchParams.get('persona') ?? undefined);
        if (!persona) {
          send(res, 401, 'Not signed in to the portal');
          return;
        }
        send(res, 200, await mintPersonaToken(options.devKey, persona, TOKEN_TTL_SECONDS));
        return;
      }
      const widgetFile = WIDGET_FILES.get(url.pathname);
      if (widgetFile) {
        res.writeHead(200, { 'content-type': CONTENT_TYPES['.js'], ...headers });
        createReadStream(widgetFile).pipe(res);
        return;
      }
      if (url.pathname === '/' || url.pathname === '/index.html') {
        const page = readFileSync(path.join(options.webRoot, 'index.html'), 'utf8')
          .replaceAll('{{relayUrl}}', escapeAttribute(options.relayUrl))
          .replaceAll('{{conversationId}}', escapeAttribute(DEMO_CONVERSATION.id));
        res.writeHead(200, {
          'content-type': CONTENT_TYPES['.html'],
          'cache-control': 'no-store',
          ...headers,
        });
        res.end(page);
        return;
      }
      const relative = url.pathname.slice(1);
      const file = path.join(options.webRoot, relative);
      if (!file.startsWith(options.webRoot + path.sep) || !existsSync(file)) {
        send(res, 404, 'Not found');
        return;
      }
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        ...headers,
      });
      createReadStream(file).pipe(res);
    })().catch(() => {
      send(res, 500, 'Portal error');
    });
  });
}
