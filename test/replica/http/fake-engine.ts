// A tiny in-memory engine for testing the HTTP layer on its own: one canister with Candid methods
// implemented in JS (echo, whoami, a counter, an HTTP handler with upgrade and streaming).
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { sha256 } from '@noble/hashes/sha2';
import type { EnginePort, ExecOutcome, CanisterView, Refusal } from '../../../replica/src/http/engine-port.ts';
import type { EngineMessage } from '../../../replica/src/http/metrics.ts';

export const FAKE_CANISTER = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');

const Token = IDL.Record({ index: IDL.Nat32, tag: IDL.Text });
const CallbackResponse = IDL.Record({ body: IDL.Vec(IDL.Nat8), token: IDL.Opt(Token) });
const HttpResponse = IDL.Record({
  status_code: IDL.Nat16,
  headers: IDL.Vec(IDL.Tuple(IDL.Text, IDL.Text)),
  body: IDL.Vec(IDL.Nat8),
  upgrade: IDL.Opt(IDL.Bool),
  streaming_strategy: IDL.Opt(
    IDL.Variant({
      Callback: IDL.Record({
        callback: IDL.Func([Token], [IDL.Opt(CallbackResponse)], ['query']),
        token: Token
      })
    })
  )
});
const HttpRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(IDL.Tuple(IDL.Text, IDL.Text)),
  body: IDL.Vec(IDL.Nat8),
  certificate_version: IDL.Opt(IDL.Nat16)
});
const HttpUpdateRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(IDL.Tuple(IDL.Text, IDL.Text)),
  body: IDL.Vec(IDL.Nat8)
});

export const CHUNK = 1_000_000;
export const CHUNKS = 10;
export const chunkByte = (i: number) => (i * 13) % 256;

const ok = (types: IDL.Type[], vals: unknown[]): ExecOutcome => ({
  status: 'replied',
  reply: new Uint8Array(IDL.encode(types, vals)),
  instructions: 1000n
});
const reject = (code: number, msg: string): ExecOutcome => ({ status: 'rejected', rejectCode: code, rejectMessage: msg, instructions: 10n });

export class FakeEngine implements EnginePort {
  counter = 0n;
  lastHttpRequest?: { url: string; headers: [string, string][] };
  certified = new Uint8Array();
  readonly messages: EngineMessage[] = [];

  private note(kind: string, canisterId: Principal, method: string, out: ExecOutcome): ExecOutcome {
    this.messages.push({ kind, canisterId: canisterId.toText(), method, instructions: out.instructions ?? 0n, outcome: out.status === 'replied' ? 'ok' : 'reject' });
    return out;
  }

  canisterIds(): Principal[] {
    return [FAKE_CANISTER];
  }

  canister(id: Principal): CanisterView | undefined {
    if (id.compareTo(FAKE_CANISTER) !== 'eq') return undefined;
    return { moduleHash: sha256(new TextEncoder().encode('fake')), controllers: [Principal.anonymous()], certifiedData: this.certified };
  }

  async query(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): Promise<ExecOutcome> {
    return this.note('query', canisterId, method, this.runQuery(canisterId, method, arg, sender));
  }

  private runQuery(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): ExecOutcome {
    if (canisterId.compareTo(FAKE_CANISTER) !== 'eq') return reject(3, `Canister ${canisterId.toText()} not found`);
    switch (method) {
      case 'greet': {
        const [name] = IDL.decode([IDL.Text], arg) as [string];
        return ok([IDL.Text], [`Hello, ${name}!`]);
      }
      case 'whoami':
        return ok([IDL.Text], [sender.toText()]);
      case 'get':
        return ok([IDL.Nat64], [this.counter]);
      case 'fail':
        return reject(5, 'Canister called `ic0.trap` with message: deliberate');
      case 'http_request': {
        const [req] = IDL.decode([HttpRequest], arg) as unknown as [{ url: string; method: string; headers: [string, string][] }];
        this.lastHttpRequest = { url: req.url, headers: req.headers };
        if (req.method !== 'GET') return ok([HttpResponse], [resp(200, [], new Uint8Array(), true)]);
        if (req.url.startsWith('/big')) {
          const r = resp(200, [['content-type', 'application/octet-stream']], chunk(0));
          r.streaming_strategy = [{ Callback: { callback: [FAKE_CANISTER, 'stream'], token: { index: 1, tag: 'big' } } }];
          return ok([HttpResponse], [r]);
        }
        return ok([HttpResponse], [resp(200, [['Content-Type', 'text/plain'], ['X-Uni', 'ünï']], new TextEncoder().encode(`GET ${req.url}`))]);
      }
      case 'stream': {
        const [token] = IDL.decode([Token], arg) as unknown as [{ index: number; tag: string }];
        if (token.tag !== 'big' || token.index >= CHUNKS) return ok([IDL.Opt(CallbackResponse)], [[]]);
        const next = token.index + 1 < CHUNKS ? [{ index: token.index + 1, tag: 'big' }] : [];
        return ok([IDL.Opt(CallbackResponse)], [[{ body: chunk(token.index), token: next }]]);
      }
      default:
        return reject(3, `Canister has no query method '${method}'`);
    }
  }

  /** stands in for canister_inspect_message: refuses gateway updates for paths under /refused */
  acceptIngress(canisterId: Principal, method: string, arg: Uint8Array): Refusal | undefined {
    if (canisterId.compareTo(FAKE_CANISTER) !== 'eq' || method !== 'http_request_update') return undefined;
    const [req] = IDL.decode([HttpUpdateRequest], arg) as unknown as [{ url: string }];
    if (!req.url.includes('/refused')) return undefined;
    return { status: 'rejected', rejectCode: 4, rejectMessage: `Canister ${canisterId.toText()} rejected the message`, errorCode: 'IC0406' };
  }

  async update(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): Promise<ExecOutcome> {
    return this.note('update', canisterId, method, this.runUpdate(canisterId, method, arg, sender));
  }

  private runUpdate(canisterId: Principal, method: string, arg: Uint8Array, sender: Principal): ExecOutcome {
    if (canisterId.compareTo(FAKE_CANISTER) !== 'eq') return reject(3, `Canister ${canisterId.toText()} not found`);
    switch (method) {
      case 'inc':
        this.counter += 1n;
        return ok([IDL.Nat64], [this.counter]);
      case 'whoami':
        return ok([IDL.Text], [sender.toText()]);
      case 'fail':
        return reject(5, 'Canister called `ic0.trap` with message: deliberate');
      case 'http_request_update': {
        const [req] = IDL.decode([HttpUpdateRequest], arg) as unknown as [{ url: string; method: string; body: Uint8Array }];
        this.counter += 1n;
        const text = `${req.method} ${req.url} ${new TextDecoder().decode(Uint8Array.from(req.body))} by ${sender.toText()}`;
        return ok([HttpResponse], [resp(201, [['content-type', 'text/plain']], new TextEncoder().encode(text))]);
      }
      default:
        return this.runQuery(canisterId, method, arg, sender);
    }
  }
}

function resp(status: number, headers: [string, string][], body: Uint8Array, upgrade?: boolean) {
  return {
    status_code: status,
    headers,
    body,
    upgrade: upgrade === undefined ? [] : [upgrade],
    streaming_strategy: [] as unknown[]
  };
}

function chunk(i: number): Uint8Array {
  return new Uint8Array(CHUNK).fill(chunkByte(i));
}
