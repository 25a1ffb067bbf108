// The reference PDS (@atproto/pds) in-process on loopback, for tests and benchmarks that compare Canopy
// with the reference. One account is created (handle alice.test by default). Its PLC directory is a
// minimal stand-in serving DID documents in today's Multikey form (what plc.directory serves and
// describeRepo's shape comparison needs); the real @did-plc/server on npm (0.0.1) still serves the
// older verification-method form. Pass `plc` to use a real directory (scripts/stack/plc-directory.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlcDirectory } from '../../scripts/stack/plc-directory.ts';

/** A PLC directory that stores the last signed operation per DID and serves the DID document built from it. */
async function memoryPlc(): Promise<{ url: string; close(): Promise<void> }> {
  const ops = new Map<string, Record<string, any>>();
  const server = http.createServer((req, res) => {
    const [did, ...rest] = decodeURIComponent((req.url ?? '/').split('?')[0]).slice(1).split('/');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'POST') {
        ops.set(did, JSON.parse(body));
        res.writeHead(200).end();
        return;
      }
      const op = ops.get(did);
      if (!op) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"DID not registered"}');
      let out: unknown = { did, ...op };
      if (rest.length === 0) {
        out = {
          '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/suites/secp256k1-2019/v1'],
          id: did,
          alsoKnownAs: op.alsoKnownAs,
          verificationMethod: Object.entries(op.verificationMethods ?? {}).map(([id, key]) => ({
            id: `${did}#${id}`,
            type: 'Multikey',
            controller: did,
            publicKeyMultibase: String(key).replace('did:key:', ''),
          })),
          service: Object.entries(op.services ?? {}).map(([id, s]: [string, any]) => ({ id: `#${id}`, type: s.type, serviceEndpoint: s.endpoint })),
        };
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    // By name, not IP: the reference fetches DID documents with a client that refuses IP hosts.
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface ReferencePds {
  url: string;
  did: string;
  handle: string;
  agent: any;
  pds: any;
  close(): Promise<void>;
}

export async function startReferencePds(opts: { handle?: string; plc?: PlcDirectory } = {}): Promise<ReferencePds> {
  const { PDS, envToCfg, envToSecrets } = await import('@atproto/pds');
  const { Secp256k1Keypair } = await import('@atproto/crypto');
  const { AtpAgent } = await import('@atproto/api');
  const plc = opts.plc ?? (await memoryPlc());
  const dir = await mkdtemp(join(tmpdir(), 'canopy-ref-pds-'));
  const port = await freePort();
  const rotation = await Secp256k1Keypair.create({ exportable: true });
  const env = {
    port,
    hostname: 'localhost',
    devMode: true,
    dataDirectory: dir,
    blobstoreDiskLocation: join(dir, 'blobs'),
    didPlcUrl: plc.url,
    jwtSecret: 'test-jwt-secret',
    adminPassword: 'test-admin',
    inviteRequired: false,
    rateLimitsEnabled: false,
    serviceHandleDomains: ['.test'],
    crawlers: [],
    disableSsrfProtection: true,
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotation.export()).toString('hex'),
    bskyAppViewUrl: undefined,
    modServiceUrl: undefined,
    reportServiceUrl: undefined,
  };
  const pds = await PDS.create(envToCfg(env as never), envToSecrets(env as never));
  await pds.start();
  const url = `http://localhost:${port}`;
  const agent = new AtpAgent({ service: url });
  const handle = opts.handle ?? 'alice.test';
  await agent.createAccount({ handle, email: `${handle.split('.')[0]}@example.com`, password: 'test-password' });
  return {
    url,
    did: agent.session!.did,
    handle,
    agent,
    pds,
    async close() {
      await pds.destroy();
      if (!opts.plc) await plc.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
