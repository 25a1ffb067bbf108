// Reads the shared interop vectors (bluesky-social/atproto-interop-tests, CC0) at test time.
import { readFileSync } from 'node:fs';

export const INTEROP = new URL('../../../shared/interop/', import.meta.url);

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, INTEROP), 'utf8')) as T;
}

/** Non-comment lines of a syntax vector file; blank lines are skipped, whitespace is kept. */
export function readLines(path: string): string[] {
  return readFileSync(new URL(path, INTEROP), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}
