// docs/rfc9293.md against the tree: every requirement of RFC 9293 Appendix B
// is listed, every MUST is implemented (only source routing is not
// applicable), and every test the matrix names exists, is not skipped, and is
// part of the suite.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/rfc9293.md'), 'utf8');

interface Row {
  id: string;
  level: string;
  status: string;
  tests: string;
  line: number;
}

const rows: Row[] = [];
doc.split('\n').forEach((text, i) => {
  const m = /^\| ((?:MUST|SHLD|MAY|REC)-\d+) +\|/.exec(text);
  if (!m) return;
  // Cells are separated by " | " (a "|" inside a cell is escaped as "\|").
  const cells = text
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
  rows.push({ id: m[1], level: cells[2], status: cells[3], tests: cells[5] ?? '', line: i + 1 });
});

/** `file` or `file` "test name" references in a Test cell. */
function refs(cell: string): { file: string; name?: string }[] {
  const out: { file: string; name?: string }[] = [];
  for (const m of cell.matchAll(/`([^`]+)`(?: "([^"]+)")?/g)) out.push({ file: m[1], name: m[2] });
  return out;
}

describe('the RFC 9293 compliance matrix (docs/rfc9293.md)', () => {
  it('lists every MUST of Appendix B (MUST-1 to MUST-69) and the SHOULDs and MAYs', () => {
    const ids = new Set(rows.map((r) => r.id));
    for (let n = 1; n <= 69; n++) expect(ids, `MUST-${n}`).toContain(`MUST-${n}`);
    for (let n = 1; n <= 31; n++) expect(ids, `SHLD-${n}`).toContain(`SHLD-${n}`);
    for (let n = 1; n <= 18; n++) expect(ids, `MAY-${n}`).toContain(`MAY-${n}`);
    expect(ids).toContain('REC-1');
  });

  it('every MUST is implemented and tested; only source routing is not applicable', () => {
    const notApplicable = new Set(['MUST-51', 'MUST-52', 'MUST-53']);
    let implemented = 0;
    const ids = new Set<string>();
    for (const r of rows.filter((x) => x.id.startsWith('MUST-'))) {
      ids.add(r.id);
      if (notApplicable.has(r.id)) {
        expect(r.status, `line ${r.line}`).toMatch(/^not applicable: \S/);
        continue;
      }
      expect(r.status, `${r.id} (line ${r.line})`).toMatch(/^implemented/);
      expect(refs(r.tests).length, `${r.id} (line ${r.line}) names no test`).toBeGreaterThan(0);
      implemented++;
    }
    const unique = new Set([...ids].filter((id) => !notApplicable.has(id)));
    expect(doc).toContain(
      `${ids.size} MUST requirements, ${unique.size} implemented, ${notApplicable.size} not applicable`,
    );
    expect(implemented).toBeGreaterThanOrEqual(unique.size);
  });

  it('a SHOULD or MAY that is not implemented says why', () => {
    for (const r of rows) {
      expect(r.status, `${r.id} (line ${r.line})`).toMatch(
        /^(implemented|not implemented: \S|not applicable: \S)/,
      );
    }
  });

  it('every test it names exists, is not skipped, and runs in npm test', () => {
    const vitestConfig = readFileSync(join(root, 'package.json'), 'utf8');
    expect(vitestConfig).toContain('"test": "vitest run"');
    let n = 0;
    for (const r of rows) {
      for (const ref of refs(r.tests)) {
        const path = join(root, ref.file);
        expect(existsSync(path), `${r.id}: ${ref.file} (line ${r.line})`).toBe(true);
        if (ref.file.endsWith('.pkt')) {
          // Every script under test/scripts/ is run by test/scripts.test.ts.
          expect(ref.file.startsWith('test/scripts/'), ref.file).toBe(true);
        } else {
          expect(ref.file, `${r.id}: not a test file`).toMatch(/^test\/.*\.test\.ts$/);
          expect(ref.name, `${r.id}: ${ref.file} needs a test name (line ${r.line})`).toBeDefined();
          const src = readFileSync(path, 'utf8');
          const at = src.indexOf(ref.name!);
          expect(at, `${r.id}: "${ref.name}" is not in ${ref.file}`).toBeGreaterThanOrEqual(0);
          // The title belongs to an it(...) that is not skipped or left to do.
          const before = src.slice(Math.max(0, src.lastIndexOf('\n', at) - 200), at);
          expect(before, `${r.id}: "${ref.name}"`).toMatch(/\bit\(\s*['"`][^'"`]*$/);
          expect(before).not.toMatch(/\b(it|describe)\.(skip|todo)\(/);
        }
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });
});
