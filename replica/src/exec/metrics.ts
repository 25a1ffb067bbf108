// Per-message instruction and wall-time records of the engine: the log line per message, the recent
// history (`engine.metrics()`), running totals and a Prometheus-style text rendering for an HTTP endpoint.
export type MessageMetric = {
    kind: string;
    canisterId: string;
    method: string;
    instructions: bigint;
    wallMs: number;
    /** part of wallMs spent copying the heap for rollback (last-committed copy / restore) */
    heapCopyMs?: number;
    outcome: 'ok' | 'trap' | 'limit' | 'reject';
};

export type CanisterMetric = { id: string; cycles: bigint; version: bigint; stablePages: number; heapBytes: number; moduleHash: string | null };
export type Totals = { updates: number; queries: number; traps: number; instructions: bigint };
export type EngineMetrics = { canisters: CanisterMetric[]; messages: MessageMetric[]; totals: Totals };

const KEPT = 1000;

export class MessageLog {
    private readonly recent: MessageMetric[] = [];
    readonly totals: Totals = { updates: 0, queries: 0, traps: 0, instructions: 0n };

    constructor(private readonly log: (line: string) => void) {}

    record(m: MessageMetric): void {
        this.recent.push(m);
        if (this.recent.length > KEPT) this.recent.shift();
        this.log(`[exec] ${m.kind} ${m.canisterId} ${m.method} ${m.outcome} instructions=${m.instructions} wall=${m.wallMs.toFixed(2)}ms${m.heapCopyMs !== undefined ? ` heap-copy=${m.heapCopyMs.toFixed(2)}ms` : ''}`);
    }

    snapshot(canisters: CanisterMetric[]): EngineMetrics {
        return { canisters, messages: [...this.recent], totals: { ...this.totals } };
    }
}

export function metricsText(m: EngineMetrics): string {
    const lines = [
        `replica_updates_total ${m.totals.updates}`,
        `replica_queries_total ${m.totals.queries}`,
        `replica_traps_total ${m.totals.traps}`,
        `replica_instructions_total ${m.totals.instructions}`
    ];
    for (const c of m.canisters) {
        lines.push(`replica_canister_cycles{canister="${c.id}"} ${c.cycles}`);
        lines.push(`replica_canister_stable_pages{canister="${c.id}"} ${c.stablePages}`);
        lines.push(`replica_canister_heap_bytes{canister="${c.id}"} ${c.heapBytes}`);
    }
    for (const x of m.messages.slice(-50)) {
        lines.push(
            `replica_message_instructions{kind="${x.kind}",canister="${x.canisterId}",method="${x.method}",outcome="${x.outcome}"} ${x.instructions}`
        );
    }
    return lines.join('\n') + '\n';
}
