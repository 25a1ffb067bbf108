// Standalone local replica: node --import tsx replica/src/main.ts [--host 127.0.0.1] [--port 4943] [--state-dir DIR] [--quiet]
import { parseArgs } from 'node:util';
import { startReplica } from './index.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '4943' },
    'state-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
});

if (values.help) {
  console.log('usage: node --import tsx replica/src/main.ts [--host 127.0.0.1] [--port 4943] [--state-dir DIR] [--quiet]');
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${values.port}`);
  process.exit(2);
}

try {
  const replica = await startReplica({
    host: values.host,
    port,
    stateDir: values['state-dir'],
    log: values.quiet ? undefined : (line) => console.log(`${new Date().toISOString()} ${line}`)
  });
  console.log(`replica listening on ${replica.url}${values['state-dir'] ? ` (state in ${values['state-dir']})` : ' (no --state-dir: state is lost on exit)'}`);
  console.log(`root key ${Buffer.from(replica.rootKey).toString('hex')}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await replica.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (e) {
  console.error(`replica failed to start: ${(e as Error).message}`);
  process.exit(1);
}
