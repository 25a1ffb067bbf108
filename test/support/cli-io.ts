// An in-process `canopy` Io for tests: output captured, config in `dir`, no terminal.
import type { Io } from '../../cli/src/cli.ts';

export function captureIo(dir: string, env: Record<string, string> = {}): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    isTTY: false,
    env: { CANOPY_CONFIG_DIR: dir, CANOPY_HOST: 'http://127.0.0.1:9', ...env },
    cwd: dir,
  };
  return { io, out, err };
}
