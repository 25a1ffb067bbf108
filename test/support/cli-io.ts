// The CLI's Io for tests: output captured in arrays, no terminal, an explicit environment and directory.
import type { Io } from '../../cli/src/cli.ts';

export interface CapturedIo {
  io: Io;
  out: string[];
  err: string[];
}

export function capturedIo(env: Record<string, string>, cwd: string): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), isTTY: false, env, cwd }, out, err };
}
