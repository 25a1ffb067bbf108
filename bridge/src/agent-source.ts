// EventSource backed by the canister: get_events / get_status query calls through @dfinity/agent.
// Its own small IDL (only the two methods the bridge needs; Candid record subtyping tolerates extra fields).
import { Actor, HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import type { EventSource, EventsPage, EventsRequest, SourceStatus } from './event-source.ts';

const idlFactory: IDL.InterfaceFactory = ({ IDL: I }) => {
  const Event = I.Record({ seq: I.Nat64, time_ns: I.Nat64, frame: I.Vec(I.Nat8) });
  const EventsPage = I.Record({ events: I.Vec(Event), head: I.Nat64, oldest: I.Nat64 });
  const Status = I.Record({
    did: I.Text, handle: I.Text, pds_url: I.Text, plc_url: I.Opt(I.Text), head_seq: I.Nat64,
    rev: I.Opt(I.Text), active: I.Bool, signing_key: I.Text,
  });
  return I.Service({
    get_events: I.Func([I.Record({ after: I.Nat64, limit: I.Nat32, max_bytes: I.Nat32 })], [EventsPage], ['query']),
    get_status: I.Func([], [Status], ['query']),
  });
};

type RawPage = { events: { seq: bigint; time_ns: bigint; frame: Uint8Array | number[] }[]; head: bigint; oldest: bigint };
type RawStatus = { did: string; handle: string; head_seq: bigint; active: boolean };
type CanopyEvents = {
  get_events(req: { after: bigint; limit: number; max_bytes: number }): Promise<RawPage>;
  get_status(): Promise<RawStatus>;
};

export type AgentSourceOptions = {
  host: string;
  canisterId: string;
  /** Fetch the replica's root key (local replicas only; never against mainnet). */
  fetchRootKey: boolean;
  verifyQuerySignatures: boolean;
};

export class AgentEventSource implements EventSource {
  private actor: Promise<CanopyEvents> | null = null;

  constructor(private readonly opts: AgentSourceOptions) {}

  private getActor(): Promise<CanopyEvents> {
    if (!this.actor) {
      this.actor = (async () => {
        const agent = HttpAgent.createSync({
          host: this.opts.host,
          verifyQuerySignatures: this.opts.verifyQuerySignatures,
          retryTimes: 0, // the bridge has its own backoff
        });
        if (this.opts.fetchRootKey) await agent.fetchRootKey();
        return Actor.createActor<CanopyEvents>(idlFactory, { agent, canisterId: this.opts.canisterId });
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
        frame: e.frame instanceof Uint8Array ? e.frame : Uint8Array.from(e.frame),
      })),
    };
  }

  async getStatus(): Promise<SourceStatus> {
    const actor = await this.getActor();
    const s = await actor.get_status();
    return { did: s.did, handle: s.handle, headSeq: Number(s.head_seq), active: s.active };
  }
}
