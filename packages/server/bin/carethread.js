#!/usr/bin/env node
// Entry point: the compiled code lives in dist, made by `pnpm build` (or `pnpm relay`, which builds).
try {
  await import('../dist/src/cli.js');
} catch (error) {
  if (
    error?.code === 'ERR_MODULE_NOT_FOUND' &&
    String(error.message).includes('/dist/src/cli.js')
  ) {
    process.stderr.write('CareThread is not built yet. Run `pnpm build` first.\n');
    process.exit(1);
  }
  throw error;
}
