// Vite config of the example app. Its dev server also plays the host's back end: it answers
// /api/carethread-token with a token for the demo patient, signed with the development tenant's
// key from the relay's data folder (CARETHREAD_DATA_DIR, default <repo>/data).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { DEV_AUDIENCE, DEV_ISSUER, loadDevSigningKey, mintToken } from '@carethread/server';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function devTokenEndpoint(): Plugin {
  return {
    name: 'carethread-dev-token-endpoint',
    configureServer(server) {
      server.middlewares.use('/api/carethread-token', (_req, res) => {
        const dataDir = process.env.CARETHREAD_DATA_DIR ?? path.join(repoRoot, 'data');
        void loadDevSigningKey(dataDir)
          .then((key) =>
            mintToken({
              issuer: DEV_ISSUER,
              audience: DEV_AUDIENCE,
              key: key.privateKey,
              kid: key.kid,
              sub: 'alice',
              name: 'Alice Moreno',
              role: 'patient',
              ttlSeconds: 600,
            }),
          )
          .then(
            (token) => {
              res.setHeader('content-type', 'text/plain');
              res.setHeader('cache-control', 'no-store');
              res.end(token);
            },
            (error: unknown) => {
              res.statusCode = 500;
              res.end(`Could not mint a token: ${String(error)}`);
            },
          );
      });
    },
  };
}

export default defineConfig({
  plugins: [devTokenEndpoint()],
  build: { target: 'es2022' },
  // 5173 is the demo portal's port.
  server: { port: 5174 },
});
