// Lint rules for the whole monorepo: typed rules from typescript-eslint, formatting left to Prettier.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// The layering of docs/architecture.md, as import rules: each zone says which folders a layer may
// not import from. Paths are relative to this file.
const server = 'packages/server/src';
const serverDomains = ['services', 'consent', 'files', 'fhir', 'webhooks', 'auth'];
const serverAdapters = ['transport', 'api'];
const serverEntries = [
  'app.ts',
  'main.ts',
  'cli.ts',
  'index.ts',
  'master-keys.ts',
  'audit-verify.ts',
];
const layering = [
  {
    target: `${server}/core`,
    from: server,
    except: ['./core'],
    message: 'core/ is the bottom of the relay: it imports only libraries and @carethread/shared.',
  },
  {
    target: `${server}/store`,
    from: server,
    except: ['./store', './core'],
    message: 'The store imports only core/: what it shares with services belongs in core/.',
  },
  ...serverDomains.map((domain) => ({
    target: `${server}/${domain}`,
    from: [...serverAdapters, ...serverEntries, 'config.ts', 'logger.ts'].map(
      (upper) => `${server}/${upper}`,
    ),
    message:
      'Services are called by transports, never the other way; they take their settings from core/settings.ts, not config.ts.',
  })),
  ...serverAdapters.map((adapter) => ({
    target: `${server}/${adapter}`,
    from: serverEntries.map((entry) => `${server}/${entry}`),
    message: 'Transports are composed by app.ts; they do not import the entry points.',
  })),
  {
    target: `${server}/config.ts`,
    from: server,
    except: ['./config.ts', './core'],
    message: 'config.ts composes core/settings.ts; nothing below the entry points is its input.',
  },
  {
    target: 'packages/widget/src/client',
    from: ['chat', 'consent', 'base', 'i18n'].map((folder) => `packages/widget/src/${folder}`),
    message: 'The headless client knows no element, style or language.',
  },
  {
    target: 'packages/shared/src',
    from: ['packages/server', 'packages/widget'],
    message: 'shared is the wire protocol: it imports no other package.',
  },
  {
    target: 'packages/widget',
    from: 'packages/server',
    message: 'The widget never imports relay code.',
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', '**/data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'Do not commit focused tests.' },
        { object: 'it', property: 'only', message: 'Do not commit focused tests.' },
        { object: 'test', property: 'only', message: 'Do not commit focused tests.' },
      ],
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: 'packages/*/tsconfig.json',
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layering }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // A file past this holds two rooms; one that must be one piece says why in an
      // `eslint-disable max-lines -- <reason>` line at its top.
      'max-lines': ['error', { max: 600 }],
    },
  },
  {
    // Build configuration and its helpers (vite.stubs.ts) sit outside the packages' tsconfig.
    files: ['**/*.js', '**/*.mjs', '**/*.config.ts', '**/vite.*.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/bin/**/*.js', '**/scripts/**/*.js', '**/*.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // Lit calls event listeners in templates (@click=${this.onClick}) with `this` as the element.
    files: ['**/*.component.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['**/test/**/*.ts', '**/*.test.ts', '**/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
