// The IC HTTP interface (api/v2 + api/v3): status, query with node-signed responses, asynchronous
// (v2) and synchronous (v3) calls, and read_state over certificates.
import { Principal } from '@dfinity/principal';
import { decodeCbor, encodeCbor, concat, CborError, type CborValue } from './cbor.ts';
import { authenticate, bytesField, textField, RequestError, type AuthenticatedRequest } from './auth.ts';
import { hashOfMap, compareBytes } from './request-id.ts';
import { utf8 } from './hash-tree.ts';
import { defaultErrorCode, type EnginePort } from './engine-port.ts';
import type { ReplicaKeys } from './keys.ts';
import type { Certifier } from './certification.ts';
import type { RequestStatusStore } from './request-status.ts';
import { metered, type Metrics } from './metrics.ts';

export type HttpReply = { status: number; contentType: string; body: Uint8Array };

const RESPONSE_SEP = utf8('\x0Bic-response');
const MANAGEMENT = Principal.managementCanister();
/** how long a v3 call waits for its outcome before answering 202 (the agent then polls) */
const SYNC_CALL_TIMEOUT_MS = 60_000;

export interface IcApiDeps {
  engine: EnginePort;
  keys: ReplicaKeys;
  certifier: Certifier;
  statuses: RequestStatusStore;
  metrics: Metrics;
  implVersion: string;
  /** wall-clock ns (see wallClock in engine-port.ts) */
  now: () => bigint;
}

const cbor = (status: number, v: CborValue): HttpReply => ({ status, contentType: 'application/cbor', body: encodeCbor(v) });
export const textReply = (status: number, msg: string): HttpReply => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body: utf8(msg)
});

export class IcApi {
  constructor(private readonly d: IcApiDeps) {}

  status(): HttpReply {
    return cbor(200, {
      ic_api_version: '0.18.0',
      impl_version: this.d.implVersion,
      root_key: this.d.keys.rootKeyDer,
      replica_health_status: 'healthy',
      certified_height: 1
    });
  }

  /** Dispatches `/api/<version>/<scope>/<id>/<endpoint>`. */
  async handle(version: string, scope: string, id: string, endpoint: string, body: Uint8Array): Promise<HttpReply> {
    try {
      let effective: Principal;
      try {
        effective = Principal.fromText(id);
      } catch {
        return textReply(400, `Invalid ${scope} id in URL: ${id}`);
      }
      let envelope: CborValue;
      try {
        envelope = decodeCbor(body);
      } catch (e) {
        return textReply(400, `Could not parse body as CBOR: ${e instanceof CborError ? e.message : String(e)}`);
      }
      const req = authenticate(envelope, this.d.now());
      if (scope === 'canister' && version === 'v2' && endpoint === 'query') return await this.query(effective, req);
      if (scope === 'canister' && version === 'v2' && endpoint === 'call') return this.call(effective, req, false);
      if (scope === 'canister' && version === 'v3' && endpoint === 'call') return await this.call(effective, req, true);
      if (version === 'v2' && endpoint === 'read_state') return await this.readState(scope, effective, req);
      return textReply(404, `Unknown endpoint /api/${version}/${scope}/${id}/${endpoint}`);
    } catch (e) {
      if (e instanceof RequestError) return textReply(e.status, e.message);
      throw e;
    }
  }

  private target(req: AuthenticatedRequest, effective: Principal, requestType: string): Principal {
    const type = textField(req.content, 'request_type');
    if (type !== requestType) throw new RequestError(400, `Expected request_type "${requestType}", got "${type}"`);
    const canister = Principal.fromUint8Array(bytesField(req.content, 'canister_id')!);
    // Management canister calls name their target canister in the URL (aaaaa-aa is tolerated, as
    // agents send creation calls there); other calls must match the URL.
    if (canister.compareTo(MANAGEMENT) === 'eq') {
      const target = this.d.engine.managementTarget?.(textField(req.content, 'method_name'), bytesField(req.content, 'arg')!);
      if (target && effective.compareTo(MANAGEMENT) !== 'eq' && target.compareTo(effective) !== 'eq') {
        throw new RequestError(
          400,
          `Effective canister id in URL ${effective.toText()} does not match the management call's target ${target.toText()}`
        );
      }
    } else if (canister.compareTo(effective) !== 'eq') {
      throw new RequestError(
        400,
        `Specified CanisterId ${canister.toText()} does not match effective canister id in URL ${effective.toText()}`
      );
    }
    if (req.targets && !req.targets.some((t) => t.compareTo(canister) === 'eq')) {
      throw new RequestError(403, `Invalid delegation: canister ${canister.toText()} is not one of the delegation targets`);
    }
    return canister;
  }

  private async query(effective: Principal, req: AuthenticatedRequest): Promise<HttpReply> {
    const canister = this.target(req, effective, 'query');
    const method = textField(req.content, 'method_name');
    const arg = bytesField(req.content, 'arg')!;
    const out = await metered(this.d.metrics, 'query', canister.toText(), method, req.sender.toText(), () =>
      this.d.engine.query(canister, method, arg, req.sender)
    );
    const fields: { [k: string]: CborValue } =
      out.status === 'replied'
        ? { status: 'replied', reply: { arg: out.reply } }
        : {
            status: 'rejected',
            reject_code: out.rejectCode,
            reject_message: out.rejectMessage,
            error_code: out.errorCode ?? defaultErrorCode(out.rejectCode, out.rejectMessage)
          };
    const timestamp = this.d.now();
    const hash = hashOfMap({ ...fields, timestamp, request_id: req.requestId });
    const signature = this.d.keys.signNode(concat([RESPONSE_SEP, hash]));
    return cbor(200, {
      ...fields,
      signatures: [{ timestamp, signature, identity: this.d.keys.nodeId.toUint8Array() }]
    });
  }

  private async call(effective: Principal, req: AuthenticatedRequest, sync: boolean): Promise<HttpReply> {
    const canister = this.target(req, effective, 'call');
    const method = textField(req.content, 'method_name');
    const arg = bytesField(req.content, 'arg')!;
    let entry = this.d.statuses.get(req.requestId);
    if (!entry) {
      // refused before it is accepted (ingress filter): answered here, uncertified, as the IC's call endpoints do
      const refused = this.d.engine.acceptIngress?.(canister, method, arg, req.sender);
      if (refused) {
        this.d.metrics.record('update', canister.toText(), method, req.sender.toText(), refused, 0);
        return cbor(200, {
          reject_code: refused.rejectCode,
          reject_message: refused.rejectMessage,
          error_code: refused.errorCode ?? defaultErrorCode(refused.rejectCode, refused.rejectMessage)
        });
      }
      entry = this.d.statuses.start(
        {
          requestId: req.requestId,
          sender: req.sender.toUint8Array(),
          canisterId: effective.toUint8Array(),
          expiryNs: BigInt(req.content.ingress_expiry as number | bigint)
        },
        () =>
          metered(this.d.metrics, 'update', canister.toText(), method, req.sender.toText(), () =>
            this.d.engine.update(canister, method, arg, req.sender)
          ),
        this.d.now()
      );
    }
    if (!sync) return { status: 202, contentType: 'text/plain', body: new Uint8Array() };
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      entry.done.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), SYNC_CALL_TIMEOUT_MS)))
    ]);
    clearTimeout(timer);
    if (!finished) return { status: 202, contentType: 'text/plain', body: new Uint8Array() };
    const certificate = await this.d.certifier.certificateAsync([[utf8('request_status'), req.requestId]]);
    return cbor(200, { status: 'replied', certificate });
  }

  private async readState(scope: string, effective: Principal, req: AuthenticatedRequest): Promise<HttpReply> {
    const type = textField(req.content, 'request_type');
    if (type !== 'read_state') throw new RequestError(400, `Expected request_type "read_state", got "${type}"`);
    const raw = req.content.paths;
    if (!Array.isArray(raw)) throw new RequestError(400, 'read_state: "paths" must be an array');
    const paths = raw.map((p) => {
      if (!Array.isArray(p) || !p.every((l) => l instanceof Uint8Array))
        throw new RequestError(400, 'read_state: each path must be an array of blobs');
      return p as Uint8Array[];
    });
    let requestId: Uint8Array | undefined;
    for (const p of paths) {
      const head = new TextDecoder().decode(p[0] ?? new Uint8Array());
      if (head === 'time' && p.length === 1) continue;
      if (head === 'subnet') continue;
      if (head === 'canister' && scope === 'canister' && p.length >= 3) {
        if (compareBytes(p[1]!, effective.toUint8Array()) !== 0)
          throw new RequestError(400, `Effective canister id in URL does not match requested canister`);
        const what = new TextDecoder().decode(p[2]);
        if (['module_hash', 'controllers', 'certified_data'].includes(what) && p.length === 3) continue;
        if (what === 'metadata' && p.length === 4) continue;
      }
      if (head === 'request_status' && scope === 'canister' && p.length >= 2) {
        if (requestId && compareBytes(requestId, p[1]!) !== 0)
          throw new RequestError(400, 'read_state: can only request one request id at a time');
        requestId = p[1]!;
        const entry = this.d.statuses.get(requestId);
        if (entry) {
          if (compareBytes(entry.sender, req.sender.toUint8Array()) !== 0)
            throw new RequestError(403, 'Request IDs must be for requests signed with the caller\'s key');
          if (compareBytes(entry.canisterId, effective.toUint8Array()) !== 0)
            throw new RequestError(400, 'Effective canister id does not match the one of the request');
        }
        continue;
      }
      throw new RequestError(404, `Invalid path requested: ${p.map(labelText).join('/')}`);
    }
    return cbor(200, { certificate: await this.d.certifier.certificateAsync(paths) });
  }
}

function labelText(l: Uint8Array): string {
  const s = new TextDecoder().decode(l);
  return /^[\x20-\x7e]*$/.test(s) ? s : Buffer.from(l).toString('hex');
}
