// BLS12-381 signing (~15 ms per signature in JS) on a worker thread, so that certifying a call's
// response does not stall the engine and the other requests of this process. Falls back to signing
// on the calling thread if the worker cannot start or fails.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { bls12_381 as bls } from '@noble/curves/bls12-381';

// Plain CommonJS so the worker needs no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { bls12_381 } = require(workerData.blsPath);
const secret = Uint8Array.from(workerData.secret);
parentPort.on('message', ({ id, message }) => {
  try {
    parentPort.postMessage({ id, signature: bls12_381.signShortSignature(message, secret) });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  }
});
`;

export class BlsSigner {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private readonly pending = new Map<number, { message: Uint8Array; resolve: (s: Uint8Array) => void }>();

  constructor(private readonly secret: Uint8Array) {}

  signSync(message: Uint8Array): Uint8Array {
    return bls.signShortSignature(message, this.secret) as Uint8Array;
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    const worker = this.start();
    if (!worker) return Promise.resolve(this.signSync(message));
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, { message, resolve });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, message });
    });
  }

  private start(): Worker | null {
    if (this.worker || this.failed) return this.worker;
    try {
      const blsPath = createRequire(import.meta.url).resolve('@noble/curves/bls12-381');
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { blsPath, secret: this.secret }, execArgv: [] });
      w.on('message', (m: { id: number; signature?: Uint8Array; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        p.resolve(m.signature ? new Uint8Array(m.signature) : this.signSync(p.message));
      });
      const fail = () => {
        // sign what was waiting here; later signatures are made on this thread
        this.failed = true;
        this.worker = null;
        for (const p of this.pending.values()) p.resolve(this.signSync(p.message));
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', () => this.worker === w && fail());
      w.unref();
      this.worker = w;
    } catch {
      this.failed = true;
    }
    return this.worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.failed = true; // no new worker after close
    this.worker = null;
    for (const p of this.pending.values()) p.resolve(this.signSync(p.message));
    this.pending.clear();
    if (w) await w.terminate();
  }
}
