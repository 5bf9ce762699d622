import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/**
 * The direction of imports between the rooms (ARCHITECTURE.md): each entry forbids `target` from
 * importing `from`. cli is the top; oci the bottom.
 */
const LIBRARIES = ['./oci', './storage', './analysis', './registry', './client', './conformance'];
const BOUNDARIES = [
  {
    target: './oci',
    from: ['./storage', './analysis', './registry', './client', './conformance', './cli'],
    message: 'oci/ is the domain: it imports none of the other rooms.',
  },
  { target: './storage', from: ['./analysis', './registry', './client', './conformance', './cli'], message: 'storage/ sits below everything but oci/.' },
  {
    target: './storage/drivers',
    from: [
      './storage/gc',
      './storage/local-copies',
      './storage/store.ts',
      './storage/blob-store.ts',
      './storage/repository-store.ts',
      './storage/upload-store.ts',
    ],
    message: 'a driver stores objects: it knows nothing of the stores, local copies or gc above it.',
  },
  { target: './analysis', from: ['./registry', './client', './conformance', './cli'], message: 'analysis/ reads storage/, and nothing above it.' },
  {
    target: './client',
    from: ['./registry', './storage', './analysis', './conformance', './cli'],
    message: 'client/ speaks HTTP only: no registry/, storage/ or the conformance tool.',
  },
  { target: './conformance', from: ['./registry', './storage', './analysis', './cli'], message: 'conformance/ speaks HTTP only: no registry/ or storage/.' },
  { target: './registry', from: ['./cli', './conformance'], message: 'registry/ is a library: cli/ is above it.' },
  {
    target: ['./registry/*.ts', './registry/!(mirror)/**'],
    from: './client',
    message: 'registry/ serves; only the mirror (registry/mirror/) speaks to other registries, through client/.',
  },
  { target: LIBRARIES, from: ['./cli'], message: 'libraries never import the command line.' },
  {
    target: ['./oci', './storage', './analysis', './registry', './client', './conformance', './cli', './bench', './peers'],
    from: ['./test'],
    message: 'nothing outside test/ imports test/.',
  },
  { target: [...LIBRARIES, './cli'], from: ['./peers', './bench'], message: 'the peers that tests and benchmarks start are not part of Berth.' },
  { target: './peers', from: [...LIBRARIES, './cli', './bench'], message: 'peers/ starts other programs and knows nothing of Berth.' },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'bench/results/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver': { node: { extensions: ['.ts', '.js'] } },
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: BOUNDARIES }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Without a message, a failing assert.ok has Node re-parse the test file to quote the call:
      // under tsx that took 45-50 s per failure, and it printed only "false == true".
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length<2]",
          message: 'Give assert.ok a message saying what was expected.',
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // The web interface's pages: plain modules run by the browser, no build step.
    files: ['ui/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'navigator', 'sessionStorage', 'fetch', 'URLSearchParams', 'TextEncoder', 'btoa', 'Node', 'setTimeout'].map(
          (name) => [name, 'readonly'],
        ),
      ),
    },
  },
);
