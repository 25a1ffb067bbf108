// Identities stored the way dfx stores them: one PEM per identity under the config directory
// (<config>/identity/<name>/identity.pem, mode 0600), the default's name in <config>/identity.json.
// Keys are never printed. New identities are secp256k1 (dfx's default); imported PEMs may be
// secp256k1 (SEC1 or PKCS#8) or Ed25519 (PKCS#8), e.g. from `dfx identity export`.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Identity, SignIdentity } from '@dfinity/agent';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { Secp256k1KeyIdentity } from '@dfinity/identity-secp256k1';
import { configDir } from './config.ts';
import { CliError, usageError } from './errors.ts';

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export function checkName(name: string): string {
  if (!NAME_RE.test(name) || name === '.' || name === '..') {
    throw usageError(`identity names use letters, digits, ".", "_" and "-" (1-64 characters), not ${JSON.stringify(name)}`);
  }
  return name;
}

/** Parses a PEM private key into an agent identity; throws CliError (never echoing the key). */
export function identityFromPem(pem: string): SignIdentity {
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new CliError('not a PEM private key');
  }
  const jwk = key.export({ format: 'jwk' }) as { d?: string; crv?: string };
  if (!jwk.d) throw new CliError('the PEM holds no private key');
  const secret = new Uint8Array(Buffer.from(jwk.d, 'base64url'));
  if (key.asymmetricKeyType === 'ed25519') return Ed25519KeyIdentity.fromSecretKey(secret);
  if (key.asymmetricKeyType === 'ec' && jwk.crv === 'secp256k1') return Secp256k1KeyIdentity.fromSecretKey(secret);
  throw new CliError(`unsupported key type ${key.asymmetricKeyType}${jwk.crv ? ` (${jwk.crv})` : ''}: use secp256k1 or Ed25519`);
}

export class IdentityStore {
  constructor(readonly dir: string = join(configDir(), 'identity')) {}

  private pemPath(name: string): string {
    return join(this.dir, checkName(name), 'identity.pem');
  }

  private get defaultFile(): string {
    return join(this.dir, '..', 'identity.json');
  }

  list(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && NAME_RE.test(e.name) && existsSync(join(this.dir, e.name, 'identity.pem')))
      .map((e) => e.name)
      .sort();
  }

  has(name: string): boolean {
    return existsSync(this.pemPath(name));
  }

  defaultName(): string | null {
    try {
      const name = JSON.parse(readFileSync(this.defaultFile, 'utf8')).default;
      return typeof name === 'string' && NAME_RE.test(name) ? name : null;
    } catch {
      return null;
    }
  }

  setDefault(name: string): void {
    if (!this.has(name)) throw new CliError(`no identity named ${JSON.stringify(name)} (see \`canopy identity list\`)`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.defaultFile, JSON.stringify({ default: name }, null, 2) + '\n', { mode: 0o600 });
  }

  private save(name: string, pem: string): void {
    const dir = join(this.dir, checkName(name));
    if (existsSync(join(dir, 'identity.pem'))) throw new CliError(`an identity named ${JSON.stringify(name)} already exists`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'identity.pem'), pem, { mode: 0o600, flag: 'wx' });
    if (!this.defaultName()) this.setDefault(name);
  }

  /** Creates a secp256k1 identity; the first identity becomes the default. */
  create(name: string): SignIdentity {
    checkName(name);
    if (this.has(name)) throw new CliError(`an identity named ${JSON.stringify(name)} already exists`);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const pem = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    this.save(name, pem);
    return identityFromPem(pem);
  }

  /** Imports a PEM after checking it parses. */
  import(name: string, pem: string): SignIdentity {
    checkName(name);
    const identity = identityFromPem(pem);
    this.save(name, pem.endsWith('\n') ? pem : pem + '\n');
    return identity;
  }

  load(name: string): SignIdentity {
    const path = this.pemPath(name);
    if (!existsSync(path)) throw new CliError(`no identity named ${JSON.stringify(name)} (see \`canopy identity list\`)`);
    return identityFromPem(readFileSync(path, 'utf8'));
  }

  /** --identity, else CANOPY_IDENTITY, else the default; refuses when there is none. */
  resolve(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { name: string; identity: Identity } {
    const name = flag ?? env.CANOPY_IDENTITY ?? this.defaultName();
    if (!name) throw new CliError('no identity yet: run `canopy identity new <name>` (or `canopy identity import <name> <pem>`)');
    return { name, identity: this.load(name) };
  }
}
