#!/usr/bin/env node
// `pnpm relay`: loads configuration, starts the relay and shuts it down gracefully on a signal.
import { createRelay } from './app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const relay = await createRelay(config, {
    // Nothing was acknowledged without a commit, so exiting loses nothing; the supervisor restarts us.
    onFatal: () => process.exit(1),
  });
  await relay.listen();
  if (relay.devKey) {
    relay.logger.warn(
      'The development tenant is on (no tenants configured). Mint a token with: pnpm carethread token --tenant dev --sub alice --role patient --name "Alice"',
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    relay.logger.info({ signal }, 'shutting down');
    const timeout = setTimeout(() => {
      relay.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timeout.unref();
    relay.close().then(
      () => process.exit(0),
      (error: unknown) => {
        relay.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `CareThread relay failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
