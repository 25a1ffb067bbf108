// `npm start` refuses clearly, in one line on stderr and a non-zero exit, before starting anything:
// a port already in use, or a port setting that is not a port.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../scripts/build-canister.ts';
import { freePort } from '../../scripts/stack/processes.ts';

const home = mkdtempSync(join(tmpdir(), 'canopy-start-config-'));
const servers: Server[] = [];
after(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  rmSync(home, { recursive: true, force: true });
});

async function runStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: repoRoot,
    // A throwaway CLI config, so the developer's own identity is never touched.
    env: { ...process.env, CANOPY_CONFIG_DIR: join(home, 'canopy'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function holdPort(): Promise<number> {
  const srv = createServer();
  servers.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return (srv.address() as { port: number }).port;
}

test('a PDS port already in use: one clear line naming the port and the setting, exit 1', async () => {
  const busy = await holdPort();
  const r = await runStart({
    CANOPY_REPLICA_PORT: String(await freePort()),
    CANOPY_PDS_PORT: String(busy),
    CANOPY_BRIDGE_PORT: String(await freePort()),
  });
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], new RegExp(`^canopy: port ${busy} \\(PDS / Worker\\) is already in use: .*CANOPY_PDS_PORT=`));
  assert.doesNotMatch(r.stdout, /\[replica\]|\[bridge\]|\[worker\]/, 'nothing was started');
});

test('a port setting that is not a port: one clear line, exit 1', async () => {
  const r = await runStart({ CANOPY_REPLICA_PORT: 'http://x' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'canopy: CANOPY_REPLICA_PORT=http://x is not a port number');
});
