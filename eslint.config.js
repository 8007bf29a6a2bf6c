import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The composition root, the package's entry, the CLI and the simulators: nothing below them imports them. */
const ABOVE = ['**/runtime.js', '../index.js', '../../index.js', '../../../index.js', '**/cli/**', '**/sim/**'];

/** One layer's forbidden imports: typescript-eslint's rule, so that type-only imports count too (unless a pattern allows them). */
function layer(files, ...patterns) {
  return [{ files: [files], rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } }];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.lead-enrich/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The layering of docs/ARCHITECTURE.md, every arrow of it: domain ← config ← machines ← streams;
  // adapters implement the domain's ports; src/runtime.ts (the composition root) wires them; the
  // CLI calls the runtime. A layer never imports one above it or beside it.
  ...layer('src/domain/**/*.ts', { group: ['../*', 'node:*', 'pg', 'undici', 'xmlrpc', 'pino', 'rxjs', 'xstate', 'zod', 'ws'], message: 'src/domain holds plain types, ports and pure functions: it imports nothing but itself.' }),
  ...layer('src/config/**/*.ts', { group: [...ABOVE, '**/machines/**', '**/streams/**', '**/adapters/**'], message: 'src/config imports src/domain only.' }),
  ...layer('src/machines/**/*.ts', {
    group: [...ABOVE, '**/config/**', '**/streams/**', '**/adapters/**', 'pg', 'undici', 'xmlrpc', 'pino', 'rxjs', 'node:*'],
    message: 'Machines are pure: xstate and src/domain only; their side effects are actors supplied with .provide.',
  }),
  ...layer(
    'src/streams/**/*.ts',
    {
      group: [...ABOVE, '**/adapters/**', 'pg', 'undici', 'xmlrpc', 'pino', 'ws', 'node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:https', 'node:dns', 'node:dns/*', 'node:child_process'],
      message: 'Streams depend on ports (src/domain), never on adapters or I/O: the composition root (src/runtime.ts) wires them.',
    },
    { group: ['**/config/**'], allowTypeImports: true, message: 'Streams take the configuration as a type: it is read once, by src/config.' },
  ),
  ...layer('src/adapters/**/*.ts', { group: [...ABOVE, '**/machines/**', '**/streams/**'], message: 'Adapters implement the ports of src/domain: they import src/domain and src/config only.' }),
  ...layer('src/sim/**/*.ts', { group: [...ABOVE.filter((p) => p !== '**/sim/**'), '**/machines/**', '**/streams/**', '**/adapters/**', '**/config/**'], message: 'The simulators stand in for the outside world: they import src/domain only.' }),
  ...layer('src/cli/**/*.ts', { group: ['**/streams/**'], message: 'The CLI parses, prints and calls the runtime (src/runtime.ts), never the streams behind it.' }),
  {
    // SQL lives in src/adapters/postgres: the streams and the CLI call its repositories.
    files: ['src/streams/**/*.ts', 'src/cli/**/*.ts', 'src/machines/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='query']", message: 'Only src/adapters runs SQL; add a repository method there.' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/config reads process.env.' }],
    },
  },
);
