#!/usr/bin/env node
// Relay entry: the compiled relay lives in dist (run `pnpm build` or `pnpm typecheck` first).
await import('../dist/src/main.js');
