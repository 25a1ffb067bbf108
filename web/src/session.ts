// Who is using the app and how it reaches the canister.
// - The agent's host is the page's own origin: the Worker forwards /api/ to the IC (locally the
//   replica), so the browser never makes a cross-origin call.
// - On mainnet members sign in with Internet Identity. The principal II gives depends on the origin
//   it derives it for; `derivationOrigin` pins that origin, so the principal a member was voted in
//   with stays theirs whichever of the account's domains serves the app.
// - On the local stack no Internet Identity runs: a local Ed25519 key kept in this browser's
//   localStorage stands in for it, and the app says so wherever the principal is shown.
import { Actor, AnonymousIdentity, HttpAgent, type Identity } from '@dfinity/agent';
import { AuthClient } from '@dfinity/auth-client';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { idlFactory, type CanopyActor, type CanopyService } from './canister.ts';

export type AppConfig = { canisterId: string; network: 'local' | 'ic'; derivationOrigin?: string; identityProvider?: string };

export type SignIn = { kind: 'local' | 'internet-identity'; identity: Identity; principal: string };

const LOCAL_KEY = 'canopy.local-identity';
const II_URL = 'https://identity.ic0.app';
const SESSION_TTL_NS = 8n * 3_600_000_000_000n;

export async function loadConfig(): Promise<AppConfig> {
  const res = await fetch('/app-config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`the app's configuration is not available (${res.status})`);
  return (await res.json()) as AppConfig;
}

export class Session {
  private agents = new Map<string, Promise<CanopyActor>>();
  private auth?: Promise<AuthClient>;
  current: SignIn | null = null;

  constructor(readonly config: AppConfig) {}

  get local(): boolean {
    return this.config.network === 'local';
  }

  /** Restores a sign-in from an earlier visit (local key or a live II delegation). */
  async restore(): Promise<SignIn | null> {
    if (this.local) {
      const saved = localStorage.getItem(LOCAL_KEY);
      if (saved && sessionStorage.getItem(LOCAL_KEY) !== 'signed-out') this.current = localSignIn(Ed25519KeyIdentity.fromJSON(saved));
    } else {
      const auth = await this.authClient();
      if (await auth.isAuthenticated()) this.current = iiSignIn(auth.getIdentity());
    }
    return this.current;
  }

  async signIn(): Promise<SignIn> {
    if (this.local) {
      let saved = localStorage.getItem(LOCAL_KEY);
      if (!saved) {
        saved = JSON.stringify(Ed25519KeyIdentity.generate().toJSON());
        localStorage.setItem(LOCAL_KEY, saved);
      }
      sessionStorage.removeItem(LOCAL_KEY);
      return (this.current = localSignIn(Ed25519KeyIdentity.fromJSON(saved)));
    }
    const auth = await this.authClient();
    await new Promise<void>((resolve, reject) =>
      auth.login({
        identityProvider: this.config.identityProvider ?? II_URL,
        derivationOrigin: this.config.derivationOrigin,
        maxTimeToLive: SESSION_TTL_NS,
        onSuccess: () => resolve(),
        onError: (reason) => reject(new Error(`Internet Identity: ${reason ?? 'sign-in was cancelled'}`)),
      }),
    );
    return (this.current = iiSignIn(auth.getIdentity()));
  }

  /** Signing out keeps the local key (it is this browser's identity), but stops using it. */
  async signOut(): Promise<void> {
    if (this.local) sessionStorage.setItem(LOCAL_KEY, 'signed-out');
    else await (await this.authClient()).logout();
    this.current = null;
  }

  /** An actor calling as the signed-in member, or anonymously for public reads. */
  actor(): Promise<CanopyActor> {
    const identity = this.current?.identity ?? new AnonymousIdentity();
    const key = identity.getPrincipal().toText();
    let actor = this.agents.get(key);
    if (!actor) {
      actor = (async () => {
        const agent = await HttpAgent.create({
          host: location.origin,
          identity,
          // Only a local replica's root key is fetched; on mainnet the agent's built-in IC root key is used.
          shouldFetchRootKey: this.local,
        });
        return Actor.createActor<CanopyService>(idlFactory, { agent, canisterId: this.config.canisterId });
      })();
      actor.catch(() => this.agents.delete(key));
      this.agents.set(key, actor);
    }
    return actor;
  }

  private authClient(): Promise<AuthClient> {
    return (this.auth ??= AuthClient.create({ idleOptions: { disableIdle: true } }));
  }
}

const localSignIn = (identity: Ed25519KeyIdentity): SignIn => ({ kind: 'local', identity, principal: identity.getPrincipal().toText() });
const iiSignIn = (identity: Identity): SignIn => ({ kind: 'internet-identity', identity, principal: identity.getPrincipal().toText() });
