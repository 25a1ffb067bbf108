// `npm run bench`: runs every bench/*.bench.ts (each default-exports an async function that
// prints its own figures). `npm run bench -- repo` runs only the matching ones.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

for (const file of files) {
  console.log(`\n=== ${file.replace('.bench.ts', '')} ===`);
  const mod = await import(new URL(file, import.meta.url).href);
  await mod.default();
}
