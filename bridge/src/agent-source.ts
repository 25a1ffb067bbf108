// EventSource backed by the canister: get_events / get_status query calls through @dfinity/agent,
// with the canister's own interface (canister/src/api/interface.ts).
import { Actor, HttpAgent, type ActorSubclass } from '@dfinity/agent';
import { idlFactory, type CanopyService } from '../../canister/src/api/interface.ts';
import type { EventSource, EventsPage, EventsRequest, SourceStatus } from './event-source.ts';

type CanopyActor = ActorSubclass<CanopyService>;

export type AgentSourceOptions = {
  host: string;
  canisterId: string;
  /** Fetch the replica's root key (local replicas only; never against mainnet). */
  fetchRootKey: boolean;
  verifyQuerySignatures: boolean;
};

export class AgentEventSource implements EventSource {
  private actor: Promise<CanopyActor> | null = null;

  constructor(private readonly opts: AgentSourceOptions) {}

  private getActor(): Promise<CanopyActor> {
    if (!this.actor) {
      this.actor = (async () => {
        const agent = HttpAgent.createSync({
          host: this.opts.host,
          verifyQuerySignatures: this.opts.verifyQuerySignatures,
          retryTimes: 0, // the bridge has its own backoff
        });
        if (this.opts.fetchRootKey) await agent.fetchRootKey();
        return Actor.createActor<CanopyService>(idlFactory, { agent, canisterId: this.opts.canisterId });
      })();
      // A failed setup (replica not up yet) is retried on the next call.
      this.actor.catch(() => (this.actor = null));
    }
    return this.actor;
  }

  async getEvents(req: EventsRequest): Promise<EventsPage> {
    const actor = await this.getActor();
    const page = await actor.get_events({ after: BigInt(req.after), limit: req.limit, max_bytes: req.maxBytes });
    return {
      head: Number(page.head),
      oldest: Number(page.oldest),
      events: page.events.map((e) => ({
        seq: Number(e.seq),
        timeNs: e.time_ns,
        frame: e.frame,
      })),
    };
  }

  async getStatus(): Promise<SourceStatus> {
    const actor = await this.getActor();
    const s = await actor.get_status();
    return { did: s.did, handle: s.handle, headSeq: Number(s.head_seq), active: s.active };
  }
}
