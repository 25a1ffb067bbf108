// Metrics at /_/metrics (Prometheus text): calls per endpoint kind, canister and method as the HTTP
// side saw them, plus every message the engine executed (timers, callbacks and installs included)
// with its instruction total. One log line per call handled over HTTP.
import type { ExecOutcome } from './engine-port.ts';

export type CallKind = 'query' | 'update' | 'gateway_query' | 'gateway_update' | 'streaming_callback';

/** One executed message as the engine reports it (replica/src/exec MessageMetric). */
export type EngineMessage = { kind: string; canisterId: string; method: string; instructions: bigint; outcome: string };

type CallSeries = { calls: number; rejected: number; seconds: number };
type MessageSeries = { messages: number; instructions: bigint };

export class Metrics {
  private readonly calls = new Map<string, CallSeries>();
  private readonly messages = new Map<string, MessageSeries>();
  private readonly seen = new WeakSet<EngineMessage>();
  private source: (() => EngineMessage[]) | undefined;
  private requests = 0;

  constructor(private readonly log: (line: string) => void = () => {}) {}

  /** `pull` returns the engine's recent messages (oldest first, the same objects on every call). */
  setMessageSource(pull: () => EngineMessage[]): void {
    this.source = pull;
    this.absorb();
  }

  countHttpRequest(): void {
    this.requests++;
  }

  record(kind: CallKind, canister: string, method: string, sender: string, out: ExecOutcome, ms: number): void {
    const key = JSON.stringify([kind, canister, method]);
    const s = this.calls.get(key) ?? { calls: 0, rejected: 0, seconds: 0 };
    s.calls++;
    if (out.status === 'rejected') s.rejected++;
    s.seconds += ms / 1000;
    this.calls.set(key, s);
    this.absorb();
    const result =
      out.status === 'replied'
        ? `replied ${out.reply.length} bytes`
        : `rejected (code ${out.rejectCode}${out.errorCode ? ' ' + out.errorCode : ''}) ${truncate(out.rejectMessage)}`;
    const instr = out.instructions === undefined ? '' : `, ${out.instructions} instructions`;
    this.log(`[http] ${kind} ${canister} ${method} from ${sender}: ${result} in ${ms.toFixed(1)} ms${instr}`);
  }

  /** Folds engine messages not yet counted into the per-method totals. */
  private absorb(): void {
    if (!this.source) return;
    const recent = this.source();
    let i = recent.length;
    while (i > 0 && !this.seen.has(recent[i - 1]!)) i--;
    for (const m of recent.slice(i)) {
      this.seen.add(m);
      const key = JSON.stringify([m.kind, m.canisterId, m.method, m.outcome]);
      const s = this.messages.get(key) ?? { messages: 0, instructions: 0n };
      s.messages++;
      s.instructions += m.instructions;
      this.messages.set(key, s);
    }
  }

  render(): string {
    this.absorb();
    const lines = [
      '# HELP replica_http_requests_total HTTP requests received.',
      '# TYPE replica_http_requests_total counter',
      `replica_http_requests_total ${this.requests}`
    ];
    const calls = [...this.calls.entries()].map(([k, s]) => {
      const [kind, canister, method] = JSON.parse(k) as string[];
      return { labels: `kind="${kind}",canister="${canister}",method="${esc(method!)}"`, s };
    });
    const counter = (name: string, help: string, rows: string[]) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, ...rows);
    counter('replica_http_calls_total', 'Calls handled over HTTP, by kind, canister and method.', calls.map((r) => `replica_http_calls_total{${r.labels}} ${r.s.calls}`));
    counter('replica_http_calls_rejected_total', 'Calls over HTTP that ended in a reject.', calls.map((r) => `replica_http_calls_rejected_total{${r.labels}} ${r.s.rejected}`));
    counter('replica_http_call_seconds_total', 'Wall time of calls over HTTP.', calls.map((r) => `replica_http_call_seconds_total{${r.labels}} ${r.s.seconds.toFixed(6)}`));
    const msgs = [...this.messages.entries()].map(([k, s]) => {
      const [kind, canister, method, outcome] = JSON.parse(k) as string[];
      return { labels: `kind="${kind}",canister="${canister}",method="${esc(method!)}",outcome="${outcome}"`, s };
    });
    counter('replica_messages_total', 'Messages executed by the engine.', msgs.map((r) => `replica_messages_total{${r.labels}} ${r.s.messages}`));
    counter('replica_message_instructions_total', 'Instructions executed by the engine.', msgs.map((r) => `replica_message_instructions_total{${r.labels}} ${r.s.instructions}`));
    return lines.join('\n') + '\n';
  }
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const truncate = (s: string) => (s.length > 200 ? s.slice(0, 200) + '…' : s);

/** Runs one engine call, recording it in the metrics and the per-call log. */
export async function metered(
  metrics: Metrics,
  kind: CallKind,
  canister: string,
  method: string,
  sender: string,
  run: () => Promise<ExecOutcome>
): Promise<ExecOutcome> {
  const t0 = performance.now();
  const out = await run();
  metrics.record(kind, canister, method, sender, out, performance.now() - t0);
  return out;
}
