// Documentation must work on any clone: no README or doc names a path on a particular machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = new Set(['node_modules', '.git', '.azle', '.dfx', 'dist']);
// An absolute path into a home, user or work directory of one machine (a POSIX or Windows home folder).
const MACHINE_PATH = /(^|[\s"'`=(:])(\/(home|Users|work|root|tmp\/[\w.-]+\/)[\w.-]*\/|[A-Z]:\\Users\\)/m;

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) markdownFiles(p, out);
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

test('no markdown file in the repository carries a machine-specific absolute path', () => {
  const files = markdownFiles(root);
  assert.ok(files.some((f) => relative(root, f) === join('bridge', 'README.md')), 'the scan sees bridge/README.md');
  const offenders = files.filter((f) => MACHINE_PATH.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
  assert.deepEqual(offenders, []);
  // The sample is assembled so that this file itself names no machine's path.
  const sample = ['export PATH=', 'home', 'someone', 'canopy', 'node_modules', '.bin:$PATH'].join('/');
  assert.ok(MACHINE_PATH.test(sample), 'the pattern catches a machine path');
  assert.ok(!MACHINE_PATH.test('export PATH=$PWD/node_modules/.bin:$PATH'), 'and leaves a relative one alone');
});
