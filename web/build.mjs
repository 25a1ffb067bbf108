// Builds the members' web app into web/dist: web/public as is, plus web/src/main.ts bundled into one
// ES module. Plain JavaScript so it runs under any Node (wrangler's [build] step runs it before
// `wrangler dev` and `wrangler deploy`); esbuild compiles the TypeScript it imports.
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const WEB_DIST = here('./dist');

export async function buildWeb({ minify = true } = {}) {
  // Files are overwritten in place, never removed first: several `wrangler dev` may build at once
  // (parallel test files) while another already serves the directory.
  mkdirSync(WEB_DIST, { recursive: true });
  cpSync(here('./public'), WEB_DIST, { recursive: true });
  const result = await build({
    entryPoints: [here('./src/main.ts')],
    outfile: `${WEB_DIST}/app.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Libraries that probe for Node's globals find none in a browser.
    define: { global: 'globalThis' },
  });
  return { dir: WEB_DIST, bytes: Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0), metafile: result.metafile };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { dir, bytes } = await buildWeb();
  console.log(`web app built into ${dir} (${(bytes / 1024).toFixed(0)} KiB of JavaScript)`);
}
