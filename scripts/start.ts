// `npm start`: the whole Canopy stack on this machine, until Ctrl-C.
import { join, resolve } from 'node:path';
import { repoRoot } from './build-canister.ts';
import { DEFAULT_PLC_PORT, DEFAULT_PORTS, PortInUseError, StackAborted, startStack, type RunningStack, type StackPorts } from './stack/index.ts';
import { defaultIdentityForDev } from '../cli/src/dev-identity.ts';

const COLORS: Record<string, string> = { replica: '36', bridge: '35', worker: '33', build: '32', deploy: '32', canopy: '1' };
const tty = process.stdout.isTTY;
function log(source: string, line: string): void {
  const tag = `[${source}]`.padEnd(10);
  console.log(tty ? `\x1b[${COLORS[source] ?? '0'}m${tag}\x1b[0m ${line}` : `${tag} ${line}`);
}

function fail(message: string): never {
  console.error(`canopy: ${message}`);
  process.exit(1);
}

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${name}=${raw} is not a port number`);
  return port;
}

const PORT_ENV: Record<keyof StackPorts, string> = { replica: 'CANOPY_REPLICA_PORT', pds: 'CANOPY_PDS_PORT', bridge: 'CANOPY_BRIDGE_PORT' };
const ports: StackPorts = {
  replica: portFromEnv(PORT_ENV.replica, DEFAULT_PORTS.replica),
  pds: portFromEnv(PORT_ENV.pds, DEFAULT_PORTS.pds),
  bridge: portFromEnv(PORT_ENV.bridge, DEFAULT_PORTS.bridge),
};

const didMethod = process.env.CANOPY_DID_METHOD || 'web';
if (didMethod !== 'web' && didMethod !== 'plc') fail(`CANOPY_DID_METHOD=${didMethod}: use web or plc`);
const plcUrl = process.env.CANOPY_PLC_URL || undefined;
if (plcUrl !== undefined && !/^https?:\/\/[^\s/]+\/?$/.test(plcUrl)) fail(`CANOPY_PLC_URL=${plcUrl} is not an http(s) origin`);
const plcPort = portFromEnv('CANOPY_PLC_PORT', DEFAULT_PLC_PORT);
const stateDir = process.env.CANOPY_STATE_DIR ? resolve(process.env.CANOPY_STATE_DIR) : join(repoRoot, '.canopy');

function describeError(err: unknown): string {
  if (err instanceof PortInUseError) {
    const env = PORT_ENV[err.part as keyof StackPorts];
    const alt = env ? ` or start with ${env}=<another port>` : '';
    return `port ${err.port} (${err.what}) is already in use: stop whatever holds it (lsof -i :${err.port})${alt}`;
  }
  return err instanceof Error ? err.message : String(err);
}

// Signals are handled from the start, so Ctrl-C during start-up also stops what has started.
const aborter = new AbortController();
let stack: RunningStack | undefined;
let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('canopy', 'stopping…');
  aborter.abort();
  await stack?.stop();
  log('canopy', 'stopped');
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (stopping) return; // a second Ctrl-C while stopping: the exit handler kills what is left
    void shutdown(0);
  });
}

try {
  const { identity, name, created } = await defaultIdentityForDev();
  if (created) log('canopy', `created CLI identity "${name}" (the dev DAO's founding member)`);
  stack = await startStack({ stateDir, ports, identity, log, signal: aborter.signal, didMethod, plcUrl: plcUrl?.replace(/\/$/, ''), plcPort });
  const firehose = `${stack.pdsUrl.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos`;
  const cliEnv = (['CANOPY_STATE_DIR', 'CANOPY_REPLICA_PORT'] as const)
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]}`)
    .join(' ');
  const lines = [
    '',
    'Canopy is running locally.',
    `  members' web app        ${stack.pdsUrl}/`,
    `  PDS (XRPC, well-known)  ${stack.pdsUrl}`,
    `  firehose                ${firehose}`,
    `  DID                     ${stack.did}`,
    ...(stack.plcUrl ? [`  PLC directory           ${stack.plcUrl}`] : []),
    `  handle                  ${stack.handle}`,
    `  canister id             ${stack.canisterId}`,
    `  steward id              ${stack.stewardId}  (each the only controller of the other)`,
    `  replica                 ${stack.replicaUrl}`,
    `  member / delegate       ${identity.getPrincipal().toText()} (CLI identity "${name}")`,
    '',
    'Try:',
    // The CLI finds this stack through the same variables: name the ones that differ from the defaults.
    ...(cliEnv ? [`  export ${cliEnv}   (in the shell you run canopy from)`] : []),
    '  npx canopy status',
    '  npx canopy propose post --text "Hello from our co-op"',
    '  npx canopy vote <id> yes            (the id that propose printed)',
    '  npx canopy proposal <id>',
    '  npx canopy write post --text "Posted directly as a delegate"',
    `  curl '${stack.pdsUrl}/xrpc/com.atproto.repo.listRecords?repo=${encodeURIComponent(stack.did)}&collection=app.bsky.feed.post'`,
    '',
    'Ctrl-C stops everything.',
  ];
  for (const line of lines) log('canopy', line);
  const reason = await stack.crashed;
  if (!stopping) {
    console.error(`canopy: ${reason}; stopping the rest`);
    await shutdown(1);
  }
} catch (err) {
  if (err instanceof StackAborted || stopping) {
    await shutdown(0);
  } else {
    await stack?.stop();
    fail(describeError(err));
  }
}
