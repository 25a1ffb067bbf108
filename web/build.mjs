// Builds the members' web app into web/dist: web/public as is, plus web/src/main.ts bundled into one
// ES module. Plain JavaScript so it runs under any Node (wrangler's [build] step runs it before
// `wrangler dev` and `wrangler deploy`); esbuild compiles the TypeScript it imports.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const WEB_DIST = here('./dist');

/**
 * Writes a file only when its bytes differ. A running `wrangler dev` watches its assets directory
 * and reloads (dropping WebSockets) on any write, and several may build at once (parallel tests):
 * an identical rebuild must not touch anything, and a changed file appears whole (rename).
 */
function writeIfChanged(path, bytes) {
  try {
    if (Buffer.compare(readFileSync(path), Buffer.from(bytes)) === 0) return;
  } catch {
    // not there yet
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export async function buildWeb({ minify = true } = {}) {
  mkdirSync(WEB_DIST, { recursive: true });
  for (const name of readdirSync(here('./public'))) writeIfChanged(join(WEB_DIST, name), readFileSync(here(`./public/${name}`)));
  const result = await build({
    entryPoints: [here('./src/main.ts')],
    outfile: join(WEB_DIST, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: false,
    metafile: true,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    // Libraries that probe for Node's globals find none in a browser.
    define: { global: 'globalThis' },
  });
  for (const file of result.outputFiles) writeIfChanged(file.path, file.contents);
  return { dir: WEB_DIST, bytes: result.outputFiles.reduce((n, f) => n + f.contents.length, 0), metafile: result.metafile };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { dir, bytes } = await buildWeb();
  console.log(`web app built into ${dir} (${(bytes / 1024).toFixed(0)} KiB of JavaScript)`);
}
