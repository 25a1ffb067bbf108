// The replica's key material: a BLS12-381 root (= subnet) key that signs certificates, and one
// Ed25519 node key that signs query responses. Generated once and kept in the state directory so a
// restarted replica keeps its root key (agents that pinned it keep working).
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { ed25519 } from '@noble/curves/ed25519';
import { Principal } from '@dfinity/principal';
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, randomBytes, sign as cryptoSign } from 'node:crypto';
import { concat } from './cbor.ts';
import { BlsSigner } from './bls-signer.ts';

/** DER prefix of an IC BLS12-381 G2 public key (OIDs 1.3.6.1.4.1.44668.5.3.1.2.1 / .2.1). */
export const BLS_DER_PREFIX = Buffer.from(
  '308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100',
  'hex'
);
export const ED25519_DER_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface ReplicaKeys {
  rootKeyDer: Uint8Array;
  subnetId: Principal;
  nodeId: Principal;
  nodeKeyDer: Uint8Array;
  /** BLS min-sig signature (48-byte G1 point) over `message`. */
  signRoot(message: Uint8Array): Uint8Array;
  /** The same, computed on a worker thread (this thread stays free meanwhile). */
  signRootAsync(message: Uint8Array): Promise<Uint8Array>;
  signNode(message: Uint8Array): Uint8Array;
  /** stops the signing worker */
  close(): Promise<void>;
}

type KeyFile = { bls_secret: string; node_secret: string };

export function loadOrCreateKeys(stateDir?: string): ReplicaKeys {
  let file: KeyFile | undefined;
  const path = stateDir ? join(stateDir, 'http', 'keys.json') : undefined;
  if (path && existsSync(path)) file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  if (!file) {
    file = {
      bls_secret: Buffer.from(bls.utils.randomPrivateKey()).toString('hex'),
      node_secret: randomBytes(32).toString('hex')
    };
    if (path) {
      mkdirSync(join(stateDir!, 'http'), { recursive: true });
      writeFileSync(path + '.tmp', JSON.stringify(file), { mode: 0o600 });
      renameSync(path + '.tmp', path);
    }
  }
  return keysFrom(file);
}

function keysFrom(file: KeyFile): ReplicaKeys {
  const blsSecret = Buffer.from(file.bls_secret, 'hex');
  const nodeSecret = Buffer.from(file.node_secret, 'hex');
  const rootKeyDer = concat([BLS_DER_PREFIX, bls.getPublicKeyForShortSignatures(blsSecret)]);
  const nodeKeyDer = concat([ED25519_DER_PREFIX, ed25519.getPublicKey(nodeSecret)]);
  const blsSigner = new BlsSigner(new Uint8Array(blsSecret));
  // node:crypto's native Ed25519 signs in microseconds (the JS one takes ~1 ms); same deterministic signatures
  const nodePrivateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, nodeSecret]), format: 'der', type: 'pkcs8' });
  return {
    rootKeyDer,
    nodeKeyDer,
    subnetId: Principal.selfAuthenticating(rootKeyDer),
    nodeId: Principal.selfAuthenticating(nodeKeyDer),
    signRoot: (m) => blsSigner.signSync(m),
    signRootAsync: (m) => blsSigner.sign(m),
    signNode: (m) => new Uint8Array(cryptoSign(null, m, nodePrivateKey)),
    close: () => blsSigner.close()
  };
}
