// Boundary between the bridge and the canister's event log (contracts.md §3, get_events / get_status).

/** One entry of the canister's event log. `frame` is the ready-to-send WebSocket frame. */
export type SourceEvent = { seq: number; timeNs: bigint; frame: Uint8Array };

/** `head` = last assigned seq (0 if none); `oldest` = smallest retained seq (0 if none). */
export type EventsPage = { events: SourceEvent[]; head: number; oldest: number };

export type EventsRequest = { after: number; limit: number; maxBytes: number };

export type SourceStatus = { did: string; handle: string; headSeq: number; active: boolean };

export interface EventSource {
  /** Events with seq > after, ascending, at most `limit`, stopping before `maxBytes` (but at least one). */
  getEvents(req: EventsRequest): Promise<EventsPage>;
  getStatus(): Promise<SourceStatus>;
}

/** `after` value that is past every seq: returns no events but the current head/oldest. */
export const AFTER_EVERYTHING = Number.MAX_SAFE_INTEGER;
