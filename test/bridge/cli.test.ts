// The CLI entry (bridge/src/main.ts): flags, JSON logs, health while the canister is unreachable, SIGTERM.
import test from 'node:test';
import { until } from '../support/until.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../bridge/src/main.ts', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  child.stderr!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}

test('main.ts: serves health while the canister is unreachable, retries, and exits cleanly on SIGTERM', async (t) => {
  const { child, lines, exited } = run(['--port', '0', '--canister-id', 'aaaaa-aa', '--ic-host', 'http://127.0.0.1:9',
    '--error-backoff-min-ms', '20', '--error-backoff-max-ms', '100']);
  t.after(() => child.kill('SIGKILL'));
  const logs = () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const port = await until('listening', () => logs().find((l) => l.msg === 'bridge listening')?.port as number | undefined, { timeoutMs: 20_000 });
  await until('poll failures', () => (logs().filter((l) => l.msg === 'event source poll failed').length >= 2 ? true : undefined), { timeoutMs: 10_000 });
  const res = await fetch(`http://127.0.0.1:${port}/_health`);
  assert.equal(res.status, 503);
  assert.equal((await res.json()).canisterReachable, false);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok(logs().some((l) => l.msg === 'bridge stopped'));
  for (const l of logs()) assert.ok(l.time && l.level && l.msg, 'structured line');
});

test('main.ts: a bad flag exits with code 2 and a message', async () => {
  const { lines, exited } = run(['--poll-min-ms', 'fast']);
  assert.equal(await exited, 2);
  assert.match(lines.join('\n'), /invalid value for --poll-min-ms/);
});
