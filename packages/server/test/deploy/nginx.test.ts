// The documented deployment, run for real: Debian's nginx with deploy/nginx/carethread.conf (its
// addresses, ports and certificate paths swapped for local ones) terminating TLS in front of two
// relay processes that share one PostgreSQL schema, Redis and one data folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { io as ioClient, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Role } from '@carethread/shared';
import { loadOrCreateDevApiKey } from '../../src/api/keys.js';
import { DEV_AUDIENCE, DEV_ISSUER, loadDevSigningKey } from '../../src/auth/dev-tenant.js';
import { mintToken } from '../../src/auth/tokens.js';
import { ok, textsOf, waitFor, type RawSocket } from '../helpers.js';
import { describeWithServices } from '../needs-services.js';

const relayBin = fileURLToPath(new URL('../../bin/carethread-relay.js', import.meta.url));
const example = fileURLToPath(new URL('../../../../deploy/nginx/carethread.conf', import.meta.url));
/** Connections one client address may open per minute on one node, low enough to reach here. */
const CONNECTIONS_PER_MINUTE = 3;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A port nothing listens on right now, for nginx (which cannot report the one it picked). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** One HTTP(S) request without keepalive, so every request is a new connection. */
function request(
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; agent?: http.Agent },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? https.request : http.request;
    const req = send(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
      },
    );
    req.once('error', reject);
    req.end(options.body);
  });
}

/** Resolves once `child` has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
}

/** The example config with each `[from, to]` replaced everywhere; fails if one no longer occurs. */
function fromExample(replacements: [string, string][]): string {
  let text = readFileSync(example, 'utf8');
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`deploy/nginx/carethread.conf lost "${from}"`);
    text = text.replaceAll(from, to);
  }
  return text;
}

describeWithServices(
  'Two relays behind nginx',
  ['DATABASE_URL', 'REDIS_URL', 'nginx', 'openssl'],
  ({ DATABASE_URL, REDIS_URL, nginx, openssl }) => {
    const folder = mkdtempSync(path.join(tmpdir(), 'carethread-deploy-'));
    const dataDir = path.join(folder, 'data');
    const nginxDir = path.join(folder, 'nginx');
    const schema = `ct_deploy_${randomBytes(6).toString('hex')}`;
    const relays: { child: ChildProcess; port: number; output: string[] }[] = [];
    const sockets: Socket[] = [];
    const agents: https.Agent[] = [];
    let nginxProcess: ChildProcess | undefined;
    let cert = '';
    let base = '';
    let plainBase = '';
    let apiKey = '';
    let devKey: Awaited<ReturnType<typeof loadDevSigningKey>>;
    // Loopback client addresses (all of 127.0.0.0/8 is local on Linux), each used by one check.
    let nextAddress = 2;
    const freshAddress = () => `127.0.0.${String(nextAddress++)}`;

    async function startRelay(configFile: string): Promise<void> {
      const output: string[] = [];
      const child = spawn(process.execPath, [relayBin], {
        env: {
          ...process.env,
          DATABASE_URL,
          REDIS_URL,
          CARETHREAD_CONFIG: configFile,
          CARETHREAD_DATA_DIR: dataDir,
          PORT: '0',
          HOST: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      child.stdout.on('data', (chunk: Buffer) =>
        output.push(...chunk.toString().split('\n').filter(Boolean)),
      );
      const relay = { child, port: 0, output };
      relays.push(relay);
      await waitFor(() => output.some((l) => l.includes('listening')), 10_000, 'a relay to listen');
      relay.port = (
        JSON.parse(output.find((l) => l.includes('listening')) ?? '{}') as { port: number }
      ).port;
    }

    /** An agent that connects from `address` and trusts the test's certificate, no keepalive. */
    function agentFrom(address: string): https.Agent {
      const agent = new https.Agent({ localAddress: address, ca: cert, keepAlive: false });
      agents.push(agent);
      return agent;
    }

    /** Which relay (0 or 1) holds engine.io session `sid`: only that node accepts a packet for it. */
    async function nodeHolding(sid: string, packet: string): Promise<number> {
      const holders: number[] = [];
      for (const [index, relay] of relays.entries()) {
        const reply = await request(
          `http://127.0.0.1:${String(relay.port)}/socket.io/?EIO=4&transport=polling&sid=${sid}`,
          { method: 'POST', body: packet, headers: { 'content-type': 'text/plain;charset=UTF-8' } },
        );
        if (reply.status === 200) holders.push(index);
      }
      expect(holders).toHaveLength(1);
      return holders[0] ?? -1;
    }

    /** Which relay nginx sends `address` to: open a bare polling session through it, then close it. */
    async function nodeFor(address: string): Promise<number> {
      const handshake = await request(`${base}/socket.io/?EIO=4&transport=polling`, {
        agent: agentFrom(address),
      });
      expect(handshake.status).toBe(200);
      const { sid } = JSON.parse(handshake.body.slice(1)) as { sid: string };
      return nodeHolding(sid, '1'); // engine.io's close packet
    }

    /** A fresh client address that nginx sends to relay `node`. */
    async function addressOn(node: number): Promise<string> {
      for (let tries = 0; tries < 20; tries++) {
        const address = freshAddress();
        if ((await nodeFor(address)) === node) return address;
      }
      throw new Error(`no client address of 20 hashes to relay ${String(node)}`);
    }

    function token(sub: string, role: Role): Promise<string> {
      return mintToken({
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        key: devKey.privateKey,
        kid: devKey.kid,
        sub,
        name: sub,
        role,
        ttlSeconds: 600,
      });
    }

    /** A Socket.IO client through nginx over TLS, from `address`; resolves once connected. */
    async function connect(
      address: string,
      sub: string,
      role: Role,
      options: { transports: ('polling' | 'websocket')[]; extraHeaders?: Record<string, string> },
    ): Promise<RawSocket> {
      const socket: RawSocket = ioClient(base, {
        auth: { token: await token(sub, role), protocol: PROTOCOL_VERSION },
        transports: options.transports,
        // engine.io-client hands the agent to Node's https (polling) and ws; its type says string.
        agent: agentFrom(address) as unknown as string,
        reconnection: false,
        forceNew: true,
        ...(options.extraHeaders ? { extraHeaders: options.extraHeaders } : {}),
      });
      sockets.push(socket);
      return new Promise((resolve, reject) => {
        socket.once('connect', () => {
          resolve(socket);
        });
        socket.once('connect_error', reject);
      });
    }

    async function createConversation(conversationId: string, userIds: string[]): Promise<void> {
      const reply = await request(`${base}/api/v1/conversations`, {
        method: 'POST',
        agent: agentFrom(freshAddress()),
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          conversationId,
          title: conversationId,
          participants: userIds.map((userId) => ({ userId, role: 'patient', displayName: userId })),
        }),
      });
      expect(reply.status).toBe(201);
    }

    beforeAll(async () => {
      mkdirSync(nginxDir);
      const keyFile = path.join(nginxDir, 'privkey.pem');
      const certFile = path.join(nginxDir, 'fullchain.pem');
      const made = spawnSync(openssl, [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1'],
      ]);
      if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
      cert = readFileSync(certFile, 'utf8');

      const configFile = path.join(folder, 'relay.json');
      writeFileSync(
        configFile,
        JSON.stringify({
          trustProxy: true,
          postgres: { poolSize: 4, schema },
          limits: { connectionsPerMinutePerAddress: CONNECTIONS_PER_MINUTE },
        }),
      );
      // One after the other: the first creates the schema and the data folder's keys, which the
      // second then reads (docs/decisions/0012-postgresql-store.md).
      await startRelay(configFile);
      await startRelay(configFile);
      devKey = await loadDevSigningKey(dataDir);
      apiKey = loadOrCreateDevApiKey(dataDir);

      const [httpPort, httpsPort] = [await freePort(), await freePort()];
      const site = fromExample([
        ['server relay-1:8080;', `server 127.0.0.1:${String(relays[0]?.port)};`],
        ['server relay-2:8080;', `server 127.0.0.1:${String(relays[1]?.port)};`],
        ['listen 80;', `listen 127.0.0.1:${String(httpPort)};`],
        ['listen 443 ssl;', `listen 127.0.0.1:${String(httpsPort)} ssl;`],
        ['listen [::]:80;', ''],
        ['listen [::]:443 ssl;', ''],
        ['/etc/nginx/tls/fullchain.pem', certFile],
        ['/etc/nginx/tls/privkey.pem', keyFile],
      ]);
      writeFileSync(path.join(nginxDir, 'carethread.conf'), site);
      // What /etc/nginx/nginx.conf gives the example in production, with every path in the test's
      // folder so nginx runs without root; as root, workers stay root to reach that folder.
      const at = (name: string) => path.join(nginxDir, name);
      writeFileSync(
        at('nginx.conf'),
        [
          ...(process.getuid?.() === 0 ? ['user root;'] : []),
          `pid ${at('nginx.pid')};`,
          `error_log ${at('error.log')} warn;`,
          'worker_processes 1;',
          'events { worker_connections 256; }',
          'http {',
          `  access_log ${at('access.log')};`,
          ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
            (kind) => `  ${kind}_temp_path ${at(`${kind}-temp`)};`,
          ),
          `  include ${at('carethread.conf')};`,
          '}',
        ].join('\n'),
      );
      nginxProcess = spawn(
        nginx,
        ['-p', nginxDir, '-e', at('error.log'), '-c', at('nginx.conf'), '-g', 'daemon off;'],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      base = `https://127.0.0.1:${String(httpsPort)}`;
      plainBase = `http://127.0.0.1:${String(httpPort)}`;
      await waitForNginx();
    });

    async function waitForNginx(): Promise<void> {
      const deadline = Date.now() + 5_000;
      for (;;) {
        if (nginxProcess?.exitCode !== null)
          throw new Error(
            `nginx exited: ${readFileSync(path.join(nginxDir, 'error.log'), 'utf8')}`,
          );
        try {
          await request(`${base}/healthz`, { agent: agentFrom('127.0.0.1') });
          return;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }

    afterAll(async () => {
      for (const socket of sockets) socket.close();
      for (const agent of agents) agent.destroy();
      if (nginxProcess) {
        nginxProcess.kill('SIGTERM');
        await exited(nginxProcess);
      }
      for (const { child } of relays) child.kill('SIGTERM');
      await Promise.all(relays.map(({ child }) => exited(child)));
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`drop schema if exists "${schema}" cascade`);
      await admin.end();
      rmSync(folder, { recursive: true, force: true });
    });

    it('redirects plain HTTP to HTTPS and sends HSTS over HTTPS', async () => {
      const plain = await request(`${plainBase}/readyz?probe=1`, {});
      expect(plain.status).toBe(301);
      expect(plain.headers.location).toBe('https://127.0.0.1/readyz?probe=1');
      const secure = await request(`${base}/readyz`, { agent: agentFrom(freshAddress()) });
      expect(secure.status).toBe(200);
      expect(secure.headers['strict-transport-security']).toBe('max-age=63072000');
    });

    it('keeps /metrics off the public side; each node still serves it on its own port', async () => {
      const outside = await request(`${base}/metrics`, { agent: agentFrom(freshAddress()) });
      expect(outside.status).toBe(404);
      const inside = await request(`http://127.0.0.1:${String(relays[0]?.port)}/metrics`, {});
      expect(inside.status).toBe(200);
      expect(inside.body).toContain('carethread_connections');
    });

    // The host API and FHIR build absolute URLs from each request. Behind TLS termination the
    // scheme comes from X-Forwarded-Proto, which the relay's HTTP server reads when it trusts the
    // proxy (trustProxy).
    it('answers FHIR with https URLs behind TLS termination', async () => {
      await createConversation('c-fhir', ['judy']);
      const reply = await request(`${base}/fhir/Patient/judy/$everything`, {
        agent: agentFrom(freshAddress()),
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(reply.status).toBe(200);
      const { entry } = JSON.parse(reply.body) as { entry: { fullUrl: string }[] };
      expect(entry.length).toBeGreaterThan(0);
      for (const { fullUrl } of entry) expect(fullUrl).toMatch(/^https:\/\/127\.0\.0\.1\/fhir\//);
    });

    it('streams an upload of several megabytes through to the relay, and the download back', async () => {
      await createConversation('c-files', ['kim']);
      const kim = await token('kim', 'patient');
      const notes = 'Visit notes. '.repeat(200_000); // 2.6 MB, over the 1 MB of other requests
      const uploaded = await request(
        `${base}/files/upload-via-nginx?conversationId=c-files&name=notes.txt`,
        {
          method: 'PUT',
          agent: agentFrom(freshAddress()),
          headers: { authorization: `Bearer ${kim}`, 'content-length': String(notes.length) },
          body: notes,
        },
      );
      expect(uploaded.status, uploaded.body.slice(0, 200)).toBe(201);
      const linked = await request(`${base}/files/upload-via-nginx/link`, {
        method: 'POST',
        agent: agentFrom(freshAddress()),
        headers: { authorization: `Bearer ${kim}` },
      });
      const { url } = JSON.parse(linked.body) as { url: string };
      // The link names the public host (https, nginx's port 443); the test's nginx is elsewhere.
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1\/files\/upload-via-nginx\?/);
      const downloaded = await request(base + new URL(url).pathname + new URL(url).search, {
        agent: agentFrom(freshAddress()),
      });
      expect(downloaded.status).toBe(200);
      expect(downloaded.body).toBe(notes);
    });

    it('pins each long-polling session to one node: clients on two nodes both work', async () => {
      const addresses = [await addressOn(0), await addressOn(1)];
      await createConversation('c-polling', ['alice', 'bob']);
      for (const [node, address] of addresses.entries()) {
        const sub = node === 0 ? 'alice' : 'bob';
        // Every request below is a new TLS connection through nginx: only the hash keeps the
        // session on the node that knows its id.
        const socket = await connect(address, sub, 'patient', { transports: ['polling'] });
        await ok(socket, 'conversation.open', { conversationId: 'c-polling' });
        for (let i = 1; i <= 3; i++)
          await ok(socket, 'message.send', {
            conversationId: 'c-polling',
            id: `polling-${sub}-${String(i)}`,
            text: `${sub} over long-polling ${String(i)}`,
          });
        const page = await ok(socket, 'history.page', { conversationId: 'c-polling' });
        expect(page.messages.filter((m) => m.sender.userId === sub)).toHaveLength(3);
        expect(socket.io.engine.transport.name).toBe('polling');
        expect(await nodeHolding(socket.io.engine.id, '6')).toBe(node); // a noop packet
      }
    });

    it('carries WebSocket through nginx, directly and as an upgrade from polling', async () => {
      await createConversation('c-websocket', ['carol']);
      const direct = await connect(freshAddress(), 'carol', 'patient', {
        transports: ['websocket'],
      });
      await ok(direct, 'conversation.open', { conversationId: 'c-websocket' });
      const sent = await ok(direct, 'message.send', {
        conversationId: 'c-websocket',
        id: 'websocket-1',
        text: 'over WebSocket',
      });
      expect(sent.seq).toBe(1);

      const upgrading = await connect(freshAddress(), 'carol', 'patient', {
        transports: ['polling', 'websocket'],
      });
      await waitFor(() => upgrading.io.engine.transport.name === 'websocket', 5_000, 'upgrade');
      await ok(upgrading, 'conversation.open', { conversationId: 'c-websocket' });
    });

    it('limits connections by the client address nginx forwards, which a client cannot forge', async () => {
      const address = await addressOn(0);
      for (let i = 0; i < CONNECTIONS_PER_MINUTE; i++)
        (await connect(address, 'dave', 'patient', { transports: ['websocket'] })).close();
      const refused = connect(address, 'dave', 'patient', {
        transports: ['websocket'],
        extraHeaders: { 'x-forwarded-for': '203.0.113.9' },
      });
      await expect(refused).rejects.toMatchObject({ data: { code: 'RATE_LIMITED' } });
      // Another client of the same node has its own allowance: the relay did not count nginx's
      // address for everyone.
      const neighbour = await connect(await addressOn(0), 'erin', 'patient', {
        transports: ['websocket'],
      });
      expect(neighbour.connected).toBe(true);
    });

    it('stores a message sent through one node where a client of the other node reads it', async () => {
      await createConversation('c-shared', ['frank', 'grace']);
      const [onFirst, onSecond] = [
        await connect(await addressOn(0), 'frank', 'patient', { transports: ['websocket'] }),
        await connect(await addressOn(1), 'grace', 'patient', { transports: ['websocket'] }),
      ];
      await ok(onFirst, 'message.send', { conversationId: 'c-shared', id: 'shared-1', text: 'hi' });
      const synced = await ok(onSecond, 'sync', { conversationId: 'c-shared', afterSeq: 0 });
      expect(textsOf(synced.entries)).toEqual(['hi']);
    });

    // Live delivery between nodes goes through the Redis fan-out (REDIS_URL, ADR 13).
    it('delivers a message live from a client on one node to a client on the other', async () => {
      await createConversation('c-live', ['heidi', 'ivan']);
      const [sender, receiver] = [
        await connect(await addressOn(0), 'heidi', 'patient', { transports: ['websocket'] }),
        await connect(await addressOn(1), 'ivan', 'patient', { transports: ['websocket'] }),
      ];
      await ok(receiver, 'conversation.open', { conversationId: 'c-live' });
      const received: string[] = [];
      receiver.on('message', (m) => received.push(m.text));
      await ok(sender, 'message.send', {
        conversationId: 'c-live',
        id: 'live-message-1',
        text: 'across nodes',
      });
      await waitFor(() => received.length > 0, 2_000, 'the message on the other node');
      expect(received).toEqual(['across nodes']);
    });
  },
);
