// The EHR's web server: sign-in with a session cookie, the page with the CareThread elements, the
// JWKS and token endpoint the relay and the elements use, the therapist's "ask for consent"
// action (a host API call), and the webhook receiver that files consents into the chart.
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken, type WebhookEvent } from '@carethread/server';
import type { ConsentRequestView } from '@carethread/shared';
import { fileConsent } from './chart.js';
import { FAMILY_DISCLOSURE_FORM } from './consent-form.js';
import type { HostApi } from './host-api.js';
import { log } from './log.js';
import { homePage, loginPage } from './pages.js';
import { jwks, type SigningKey } from './signing-key.js';
import { DEMO_CONVERSATION, userById, type EhrUser } from './users.js';
import { createWebhookReceiver } from './webhooks.js';

/** CareThread tokens are short-lived; the elements ask for a fresh one before it expires. */
const TOKEN_TTL_SECONDS = 10 * 60;
const SESSION_TTL_MS = 8 * 3600 * 1000;
const SESSION_COOKIE = 'ehr_session';
/**
 * The script-tag build of the widget, as a host would copy it or load it from a CDN: the script
 * and the files it loads from beside itself when needed (the consent element, the
 * drawn-signature pad, the Spanish strings).
 */
const resolveWidget = createRequire(import.meta.url).resolve;
const WIDGET_FILES = new Map(
  ['carethread.js', 'carethread-consent.js', 'carethread-signature-pad.js', 'carethread-es.js'].map(
    (name) => [`/${name}`, resolveWidget(`@carethread/widget/${name}`)],
  ),
);
const STYLESHEET = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../public/ehr.css');

export interface EhrOptions {
  /** This EHR's own URL: the `iss` of its tokens and the origin its pages are served from. */
  publicUrl: string;
  /** The `aud` the relay's tenant expects. */
  audience: string;
  relayUrl: string;
  key: SigningKey;
  api: HostApi;
  webhookSecret: string;
  /** Where webhook event ids already handled are remembered. */
  seenFile: string;
  /** The chart folder FHIR resources are filed in. */
  chartDir: string;
}

interface Session {
  userId: string;
  expiresAt: number;
}

function send(res: ServerResponse, status: number, body: string, headers = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

function redirect(res: ServerResponse, location: string, headers = {}): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...headers });
  res.end();
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 10_000) break;
  }
  return new URLSearchParams(text);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** What the relay tells us, and what the EHR does about it. */
function webhookHandler(options: EhrOptions) {
  return async (event: WebhookEvent): Promise<void> => {
    switch (event.type) {
      case 'consent.signed':
      case 'consent.revoked':
      case 'consent.expired': {
        const filed = await fileConsent(options.api, options.chartDir, event.data.requestId);
        log('consent filed', {
          event: event.id,
          type: event.type,
          requestId: event.data.requestId,
          resources: filed.join(' '),
        });
        return;
      }
      case 'message.created':
      case 'message.edited':
        // Nothing is filed per message: the chart archive reads a conversation's entries in
        // order with GET /api/v1/conversations/{id}/entries (paged), e.g. when an encounter
        // closes, which also catches anything a lost webhook would miss. Ids only in logs.
        log('message noted', {
          event: event.id,
          type: event.type,
          conversationId: event.data.conversationId,
          seq: event.data.seq,
        });
        return;
      default:
        log('event ignored', { event: event.id, type: event.type });
    }
  };
}

/** The EHR as a request listener, to attach to a server once its address is known. */
export function createEhrApp(options: EhrOptions): RequestListener {
  const relay = new URL(options.relayUrl);
  const relayWs = `${relay.protocol === 'https:' ? 'wss' : 'ws'}://${relay.host}`;
  // The page may talk to itself and to the relay only; no inline script or style anywhere, and
  // no script may write HTML from strings (the elements use Lit's own Trusted Types policy).
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${relay.origin} ${relayWs}`,
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "require-trusted-types-for 'script'",
    'trusted-types lit-html',
  ].join('; ');
  const pageHeaders = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  const secure = options.publicUrl.startsWith('https:') ? '; Secure' : '';
  // In memory: a restart signs everyone out, which a demo can live with.
  const sessions = new Map<string, Session>();
  const receiveWebhook = createWebhookReceiver({
    secret: options.webhookSecret,
    seenFile: options.seenFile,
    handle: webhookHandler(options),
  });

  function signedIn(req: IncomingMessage): { user: EhrUser; session: Session } | undefined {
    const id = cookie(req, SESSION_COOKIE);
    const session = id === undefined ? undefined : sessions.get(id);
    if (!id || !session) return undefined;
    if (session.expiresAt < Date.now()) {
      sessions.delete(id);
      return undefined;
    }
    const user = userById(session.userId);
    return user && { user, session };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', options.publicUrl);
    const method = req.method ?? 'GET';
    const { pathname } = url;

    if (pathname === '/carethread/webhooks') return receiveWebhook(req, res);

    if (pathname === '/.well-known/jwks.json') {
      // The relay caches keys for ten minutes, so a new key must be published before use.
      send(res, 200, JSON.stringify(jwks(options.key)), {
        'content-type': 'application/json',
        'cache-control': 'public, max-age=300',
      });
      return;
    }

    if (pathname === '/login' && method === 'GET') {
      send(res, 200, loginPage(url.searchParams.has('failed')), {
        'content-type': 'text/html; charset=utf-8',
        ...pageHeaders,
      });
      return;
    }

    if (pathname === '/login' && method === 'POST') {
      const form = await readForm(req);
      const user = userById(form.get('user') ?? undefined);
      // DEMO ONLY: a fixed password per user. Use your identity provider here.
      if (!user || form.get('password') !== user.demoPassword) {
        redirect(res, '/login?failed');
        return;
      }
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, {
        userId: user.id,
        expiresAt: Date.now() + SESSION_TTL_MS,
      });
      // HttpOnly: page scripts never see it. SameSite=Lax: other sites cannot POST with it.
      redirect(res, '/', {
        'set-cookie': `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${secure}`,
      });
      return;
    }

    if (pathname === '/logout' && method === 'POST') {
      const id = cookie(req, SESSION_COOKIE);
      if (id) sessions.delete(id);
      redirect(res, '/login', {
        'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`,
      });
      return;
    }

    const widgetFile = WIDGET_FILES.get(pathname);
    if (widgetFile) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...pageHeaders });
      createReadStream(widgetFile).pipe(res);
      return;
    }
    if (pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (pathname === '/ehr.css') {
      send(res, 200, readFileSync(STYLESHEET, 'utf8'), {
        'content-type': 'text/css; charset=utf-8',
      });
      return;
    }

    const current = signedIn(req);

    if (pathname === '/carethread/token') {
      // For the signed-in user only, from the session cookie that the elements' fetch sends.
      if (!current) {
        send(res, 401, 'Not signed in');
        return;
      }
      const { user } = current;
      const token = await mintToken({
        issuer: options.publicUrl,
        audience: options.audience,
        key: options.key.privateKey,
        kid: options.key.kid,
        sub: user.id,
        name: user.name,
        role: user.role,
        ...(user.relationship ? { relationship: user.relationship } : {}),
        ...(user.title ? { title: user.title } : {}),
        ttlSeconds: TOKEN_TTL_SECONDS,
      });
      send(res, 200, token);
      return;
    }

    if (pathname === '/consent-requests' && method === 'POST') {
      if (current?.user.role !== 'provider') {
        send(res, 403, 'Care team only');
        return;
      }
      // Our id for the request: it names the request in CareThread, and the Idempotency-Key
      // makes the call safe to retry after a timeout.
      const requestId = `rq_${randomUUID().replaceAll('-', '')}`;
      const request = await options.api.post<ConsentRequestView>(
        '/api/v1/consent-requests',
        {
          requestId,
          templateId: FAMILY_DISCLOSURE_FORM.templateId,
          conversationId: DEMO_CONVERSATION.conversationId,
          patientId: 'alice',
          recipients: ['bob'],
          purpose: 'So my brother Bob can support my recovery.',
          expiresAt: new Date(Date.now() + 180 * 86_400_000).toISOString(),
          // The record names the clinician who asked, not only this back end's API key.
          onBehalfOf: current.user.id,
        },
        `consent-request:${requestId}`,
      );
      log('consent requested', { requestId: request.requestId, by: current.user.id });
      redirect(res, `/?asked=${encodeURIComponent(request.requestId)}`);
      return;
    }

    if (pathname === '/' && method === 'GET') {
      if (!current) {
        redirect(res, '/login');
        return;
      }
      send(
        res,
        200,
        homePage({
          user: current.user,
          relayUrl: options.relayUrl,
          conversationId: DEMO_CONVERSATION.conversationId,
          askedRequestId: url.searchParams.get('asked') ?? undefined,
        }),
        { 'content-type': 'text/html; charset=utf-8', ...pageHeaders },
      );
      return;
    }

    send(res, 404, 'Not found');
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      log('request failed', {
        path: req.url?.split('?')[0] ?? null,
        error: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) send(res, 500, 'EHR error');
      else res.end();
    });
  };
}
