// The browser core's size budget: `import { ... } from 'synack'`, bundled and
// minified, must gzip to at most this many bytes. The build prints the size;
// test/package.test.ts holds it.
export const CORE_GZIP_BUDGET = 40 * 1024;
