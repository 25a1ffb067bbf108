// Shared pieces of the bridge tests: frames for the in-memory source, and a recording firehose client.
// Frames are decoded with @atproto/xrpc-server's Frame (an implementation nobody here wrote).
import { WebSocket } from 'ws';
import { Frame } from '@atproto/xrpc-server';
import { eventFrame, identityEventBody } from '../../canister/src/repo/events.ts';
import { SUBSCRIBE_PATH } from '../../bridge/src/index.ts';

/** A realistic #identity frame for `seq`, optionally padded (to make frames big in backpressure tests). */
export function identityFrame(seq: number, padTo = 0): Uint8Array {
  const body = identityEventBody({ seq, did: 'did:web:example.test', time: new Date().toISOString() });
  if (padTo > 0) body.handle = 'h' + 'a'.repeat(Math.max(1, padTo - 100)) + '.example.test';
  return eventFrame('#identity', body);
}

export type Received = { kind: 'message'; type: string; seq?: number; body: Record<string, unknown>; bytes: Uint8Array }
  | { kind: 'error'; error: string; message?: string };

export class TestClient {
  readonly frames: Received[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(baseUrl: string, cursor?: number | string) {
    const q = cursor === undefined ? '' : `?cursor=${cursor}`;
    this.ws = new WebSocket(`${baseUrl}${SUBSCRIBE_PATH}${q}`);
    this.opened = new Promise((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('error', rej);
      this.ws.once('unexpected-response', (_req, resp) => rej(new Error(`HTTP ${resp.statusCode}`)));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((res) => this.ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data);
      const f = Frame.fromBytes(bytes);
      if (f.isError()) this.frames.push({ kind: 'error', error: f.code, message: f.message });
      else if (f.isMessage()) {
        const body = f.body as Record<string, unknown>;
        this.frames.push({ kind: 'message', type: f.type ?? '', seq: typeof body.seq === 'number' ? body.seq : undefined, body, bytes });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  seqs(): number[] {
    return this.frames.flatMap((f) => (f.kind === 'message' && f.seq !== undefined ? [f.seq] : []));
  }

  lastSeq(): number | undefined {
    const s = this.seqs();
    return s[s.length - 1];
  }

  /** Waits (bounded) until `pred` holds over the frames received so far. */
  async waitFor(pred: (c: TestClient) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got seqs ${JSON.stringify(this.seqs().slice(-20))} (${this.frames.length} frames)`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  waitForSeq(seq: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor((c) => (c.lastSeq() ?? 0) >= seq, timeoutMs, `seq ${seq}`);
  }

  /** Stops reading from the socket (the kernel buffers fill, then the server's). */
  pause(): void {
    (this.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  }

  close(): void {
    this.ws.terminate();
  }
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` with cleanups registered along the way, always running them (reverse order). */
export async function withCleanup(fn: (defer: (c: () => unknown) => void) => Promise<void>): Promise<void> {
  const cleanups: (() => unknown)[] = [];
  try {
    await fn((c) => cleanups.push(c));
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* keep cleaning */
      }
    }
  }
}

import { startBridge, MemoryEventSource, type StartOptions, type RunningBridge } from '../../bridge/src/index.ts';

/** A bridge on 127.0.0.1:0 over `source`, quiet, polling fast; closed by the test's `after`. */
export async function testBridge(
  t: { after(fn: () => unknown): void },
  source: MemoryEventSource,
  opts: StartOptions = {},
): Promise<RunningBridge> {
  const bridge = await startBridge({ host: '127.0.0.1', port: 0, logLevel: 'silent', pollMinMs: 10, pollMaxMs: 50, source, ...opts });
  t.after(() => bridge.close());
  await bridge.poller.ready;
  return bridge;
}

export function client(t: { after(fn: () => unknown): void }, bridge: RunningBridge, cursor?: number | string): TestClient {
  const c = new TestClient(bridge.url, cursor);
  t.after(() => c.close());
  return c;
}

export function appendN(source: MemoryEventSource, n: number, padTo = 0): void {
  for (let i = 0; i < n; i++) source.append((seq) => identityFrame(seq, padTo));
}
