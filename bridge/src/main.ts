// CLI entry: `node --import tsx bridge/src/main.ts [--flags]` (see bridge/README.md).
import { loadConfig } from './config.ts';
import { startBridge } from './index.ts';

const cfg = (() => {
  try {
    return loadConfig();
  } catch (err) {
    process.stderr.write(`canopy-bridge: ${(err as Error).message}\n`);
    process.exit(2);
  }
})();

const bridge = await startBridge(cfg);
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) process.exit(1);
    stopping = true;
    bridge.close().then(() => process.exit(0), () => process.exit(1));
  });
}
