#!/usr/bin/env node
// Command-line entry: the compiled CLI lives in dist (run `pnpm build` or `pnpm typecheck` first).
await import('../dist/src/cli.js');
