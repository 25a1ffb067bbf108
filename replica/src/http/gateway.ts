// HTTP gateway: a plain HTTP request to a canister becomes an `http_request` query (HTTP gateway
// spec), upgraded to an anonymous `http_request_update` call when the canister answers
// upgrade = opt true; bodies continue through the streaming callback, written to the client as each
// chunk arrives. Status, headers and body bytes pass through unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import type { EnginePort, ExecOutcome } from './engine-port.ts';
import { metered, type CallKind, type Metrics } from './metrics.ts';
import { decodeMessage, field, reencode, CandidWireError, type WireMessage, type WireValue, type WireFunc } from './candid-wire.ts';

const Header = IDL.Tuple(IDL.Text, IDL.Text);
const HttpRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(Header),
  body: IDL.Vec(IDL.Nat8),
  certificate_version: IDL.Opt(IDL.Nat16)
});
const HttpUpdateRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(Header),
  body: IDL.Vec(IDL.Nat8)
});

/** Most bytes a gateway request body may carry (the IC's ingress message limit). */
export const MAX_GATEWAY_REQUEST_BODY = 2 * 1024 * 1024;
const MAX_STREAM_CHUNKS = 100_000;
const ANONYMOUS = Principal.anonymous();

type ParsedResponse = {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  upgrade: boolean;
  callback?: { func: WireFunc; token: WireValue; msg: WireMessage };
};

export type GatewayRequest = { method: string; url: string; headers: [string, string][]; body: Uint8Array };

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

/** `<id>.raw.localhost`, `<id>.localhost` (any port) → canister id text. */
export function canisterFromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const m = /^([a-z0-9-]+)\.(?:raw\.)?localhost$/.exec(name);
  return m?.[1];
}

/** Removes every `canisterId` query parameter, leaving the rest of the URL byte for byte. */
export function stripCanisterIdParam(url: string): { url: string; canisterId?: string } {
  const q = url.indexOf('?');
  if (q < 0) return { url };
  const path = url.slice(0, q);
  let canisterId: string | undefined;
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((part) => {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      if (safeDecode(key) !== 'canisterId') return true;
      canisterId ??= safeDecode(eq < 0 ? '' : part.slice(eq + 1));
      return false;
    });
  return { url: kept.length ? `${path}?${kept.join('&')}` : path, canisterId };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export class Gateway {
  constructor(
    private readonly engine: EnginePort,
    private readonly metrics: Metrics
  ) {}

  async serve(canisterText: string, req: GatewayRequest, res: ServerResponse): Promise<void> {
    let canister: Principal;
    try {
      canister = Principal.fromText(canisterText);
    } catch {
      throw new GatewayError(400, `Invalid canister id: ${canisterText}`);
    }
    const queryArg = IDL.encode([HttpRequest], [{ ...req, certificate_version: [2] }]);
    let resp = this.parse(
      await this.exec('gateway_query', canister, 'http_request', queryArg, () =>
        this.engine.query(canister, 'http_request', queryArg, ANONYMOUS)
      ),
      canister
    );
    if (resp.upgrade) {
      const updateArg = IDL.encode([HttpUpdateRequest], [req]);
      resp = this.parse(
        await this.exec('gateway_update', canister, 'http_request_update', updateArg, async () => {
          // an ingress update like any other: the canister's inspect_message may refuse it
          const refused = this.engine.acceptIngress?.(canister, 'http_request_update', updateArg, ANONYMOUS);
          return refused ?? this.engine.update(canister, 'http_request_update', updateArg, ANONYMOUS);
        }),
        canister
      );
    }
    await this.send(res, resp, req.method === 'HEAD');
  }

  private exec(kind: CallKind, canister: Principal, method: string, _arg: Uint8Array, run: () => Promise<ExecOutcome>) {
    return metered(this.metrics, kind, canister.toText(), method, ANONYMOUS.toText(), run);
  }

  private parse(out: ExecOutcome, canister: Principal): ParsedResponse {
    if (out.status === 'rejected') {
      if (out.rejectCode === 3) {
        const missing = /not found|does not exist|no such canister/i.test(out.rejectMessage);
        throw new GatewayError(
          missing ? 404 : 502,
          missing ? `Canister ${canister.toText()} not found: ${out.rejectMessage}` : `Canister rejected: ${out.rejectMessage}`
        );
      }
      throw new GatewayError(
        502,
        `Replica error: reject code ${out.rejectCode}, ${out.errorCode ?? ''} ${out.rejectMessage}`.replace(/\s+/g, ' ')
      );
    }
    try {
      const msg = decodeMessage(out.reply);
      const rec = msg.args[0]?.value;
      const status = Number(field(rec, 'status_code')?.value);
      const headers = (field(rec, 'headers')?.value as WireValue[]).map((h) => {
        const pair = h.value as Map<number, WireValue>;
        return [String(pair.get(0)!.value), String(pair.get(1)!.value)] as [string, string];
      });
      const body = field(rec, 'body')!.value as Uint8Array;
      const upgrade = (field(rec, 'upgrade')?.value as WireValue | null | undefined)?.value === true;
      const strategy = field(rec, 'streaming_strategy')?.value as WireValue | null | undefined;
      let callback: ParsedResponse['callback'];
      if (strategy) {
        const cb = (strategy.value as { value: WireValue }).value.value; // variant Callback → record
        const func = field(cb, 'callback')!.value as WireFunc;
        callback = { func, token: field(cb, 'token')!, msg };
      }
      if (!Number.isInteger(status) || status < 100 || status > 999) throw new CandidWireError(`bad status code ${status}`);
      return { status, headers, body, upgrade, callback };
    } catch (e) {
      throw new GatewayError(502, `Canister returned an invalid HttpResponse: ${(e as Error).message}`);
    }
  }

  private async send(res: ServerResponse, resp: ParsedResponse, head: boolean): Promise<void> {
    const raw: string[] = [];
    let hasLength = false;
    for (const [k, v] of resp.headers) {
      if (k.toLowerCase() === 'content-length') hasLength = true;
      // Header bytes travel as latin1 so UTF-8 sequences reach the client unchanged.
      raw.push(Buffer.from(k, 'utf8').toString('latin1'), Buffer.from(v, 'utf8').toString('latin1'));
    }
    if (!resp.callback && !hasLength) raw.push('content-length', String(resp.body.length));
    try {
      res.writeHead(resp.status, raw);
    } catch (e) {
      throw new GatewayError(502, `Canister returned an invalid HTTP header: ${(e as Error).message}`);
    }
    if (head) {
      res.end();
      return;
    }
    await write(res, resp.body);
    let cb = resp.callback;
    for (let i = 0; cb && i < MAX_STREAM_CHUNKS; i++) {
      const target = Principal.fromUint8Array(cb.func.principal);
      const arg = reencode(cb.msg, cb.token);
      const method = cb.func.method;
      const out = await metered(this.metrics, 'streaming_callback', target.toText(), method, ANONYMOUS.toText(), () =>
        this.engine.query(target, method, arg, ANONYMOUS)
      );
      if (out.status === 'rejected') {
        // Headers are gone already: cut the connection so the client sees an incomplete body.
        res.destroy(new Error(`streaming callback rejected: ${out.rejectMessage}`));
        return;
      }
      const msg = decodeMessage(out.reply);
      const opt = msg.args[0]?.value as WireValue | null;
      if (!opt) break;
      const chunk = field(opt.value, 'body')!.value as Uint8Array;
      await write(res, chunk);
      const next = field(opt.value, 'token')?.value as WireValue | null | undefined;
      cb = next ? { func: cb.func, token: next, msg } : undefined;
    }
    res.end();
  }
}

function write(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (chunk.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ok = res.write(chunk, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else {
      const onDrain = () => {
        res.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        res.off('drain', onDrain);
        reject(new Error('client went away'));
      };
      res.once('drain', onDrain);
      res.once('close', onClose);
    }
  });
}

/** Collects the request headers exactly as sent (names keep their case). */
export function rawHeaderPairs(req: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    out.push([req.rawHeaders[i]!, Buffer.from(req.rawHeaders[i + 1]!, 'latin1').toString('utf8')]);
  }
  return out;
}
