// npm run build: the package as users install it. tsc emits ESM JavaScript,
// declarations and source maps into dist/ (relative imports rewritten from
// .ts to .js); esbuild adds CommonJS bundles of the two entry points; the
// browser core's gzip size is printed and held to a budget.

import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CORE_GZIP_BUDGET } from './budget.mjs';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const CORE_BUDGET = CORE_GZIP_BUDGET;

rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

// Declarations keep the source's .ts specifiers; consumers need .js ones.
for (const f of walk(dist)) {
  if (!f.endsWith('.d.ts')) continue;
  const text = readFileSync(f, 'utf8');
  const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
  if (fixed !== text) writeFileSync(f, fixed);
}
chmodSync(join(dist, 'cli/main.js'), 0o755);

// CommonJS for require(): one bundle per entry; Node built-ins and dependencies stay outside.
const external = ['commander', 'koffi'];
await build({
  entryPoints: {
    index: join(root, 'src/index.ts'),
    node: join(root, 'src/node/index.ts'),
    script: join(root, 'src/script.ts'),
  },
  outdir: join(dist, 'cjs'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: true,
  logLevel: 'warning',
  // import.meta.url has no CommonJS meaning; the Node entry uses it only to find koffi.
  define: { 'import.meta.url': '__synack_import_meta_url' },
  banner: {
    js: "const __synack_import_meta_url = require('node:url').pathToFileURL(__filename).href;",
  },
});

// The lab page, built by Vite into dist/web (served by `synack web`).
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    'web/vite.config.ts',
    '--logLevel',
    'warn',
  ],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

// The browser core: what a web page pays for `import { ... } from 'synack'`.
const core = await build({
  entryPoints: [join(dist, 'index.js')],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  logLevel: 'warning',
});
const bytes = core.outputFiles[0].contents;
const gz = gzipSync(bytes, { level: 9 }).length;
writeFileSync(
  join(dist, 'size.json'),
  `${JSON.stringify({ core: { minified: bytes.length, gzip: gz, budget: CORE_BUDGET } })}\n`,
);
console.log(
  `synack core for browsers: ${(bytes.length / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzip (budget ${CORE_BUDGET / 1024} KiB)`,
);
if (gz > CORE_BUDGET) {
  console.error(`the browser core is over its size budget by ${gz - CORE_BUDGET} bytes`);
  process.exit(1);
}

function* walk(dir) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}
