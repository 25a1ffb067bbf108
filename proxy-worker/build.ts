// Bundles the Worker into one ES module (what wrangler does on deploy), for tests and local runs.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const WORKER_OUT = fileURLToPath(new URL('./dist/worker.js', import.meta.url));

export async function buildWorker(): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('./src/index.ts', import.meta.url))],
    outfile: WORKER_OUT,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    logLevel: 'warning',
  });
  return WORKER_OUT;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await buildWorker());
}
