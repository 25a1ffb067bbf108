// The connection to the canister: agent (root key fetched on the local replica only) and actor.
import { Actor, AnonymousIdentity, HttpAgent, type ActorSubclass, type Identity } from '@dfinity/agent';
import { idlFactory, type CanopyService } from '../../canister/src/api/interface.ts';
import { canisterIdFor, hostFor, parseNetwork, type Network } from './config.ts';
import { errorLine } from './errors.ts';
import { IdentityStore } from './identity.ts';

export type CanopyActor = ActorSubclass<CanopyService>;

export type ConnectionOptions = { network?: string; canister?: string; identity?: string; host?: string };

export class Connection {
  readonly network: Network;
  readonly host: string;
  private actorPromise?: Promise<CanopyActor>;
  private identityCache?: { name: string; identity: Identity } | null;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
    readonly store: IdentityStore,
  ) {
    this.network = parseNetwork(opts.network, env);
    this.host = hostFor(this.network, opts.host, env);
  }

  canisterId(): string {
    return canisterIdFor(this.network, this.opts.canister, this.cwd, this.env);
  }

  /** The caller's identity; `required: false` falls back to anonymous for read-only commands. */
  identity(required = true): { name: string; identity: Identity } | null {
    if (this.identityCache === null && required) this.identityCache = undefined;
    if (this.identityCache === undefined) {
      try {
        this.identityCache = this.store.resolve(this.opts.identity, this.env);
      } catch (e) {
        if (required || this.opts.identity !== undefined) throw e;
        this.identityCache = null;
      }
    }
    return this.identityCache;
  }

  actor(requireIdentity = true): Promise<CanopyActor> {
    if (requireIdentity) this.identity(true); // throws a clear error before any network call
    return (this.actorPromise ??= (async () => {
      const canisterId = this.canisterId();
      const identity = this.identity(requireIdentity)?.identity ?? new AnonymousIdentity();
      const agent = await HttpAgent.create({
        host: this.host,
        identity,
        shouldFetchRootKey: this.network === 'local',
        retryTimes: 0,
      });
      return Actor.createActor<CanopyService>(idlFactory, { agent, canisterId });
    })());
  }

  explain(err: unknown): string {
    return errorLine(err, this.host);
  }
}
