// Client side of the IC management canister ('aaaaa-aa'), as dfx drives it. Its Candid interface and types
// are Azle's (`azle/canisters/management/idl`, from the interface specification's ic.did), the same ones the
// replica's management canister decodes with: nothing here restates them. For convenience, optional Candid
// fields may be left out of an argument (they are sent as `null`), and an optional variant payload (e.g.
// `mode: { upgrade: null }`) may be given as `null`.
import { Actor, type ActorMethod, type HttpAgent } from '@dfinity/agent';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { idlFactory, type _SERVICE } from 'azle/canisters/management/idl';

export { idlFactory as managementIdl };
export type ManagementService = _SERVICE;

type Opt<T> = [] | [T];
type IsOpt<T> = [T] extends [Opt<infer _>] ? ([] extends T ? true : false) : false;
type OptKeys<T> = { [K in keyof T]-?: IsOpt<T[K]> extends true ? K : never }[keyof T];

/** a Candid value where optional record fields may be omitted and optional values may be `null` */
export type Lenient<T> = T extends Principal | Uint8Array | number[] | bigint | number | string | boolean | null
  ? T
  : IsOpt<T> extends true
    ? T extends Opt<infer U>
      ? [] | [Lenient<U>] | null
      : never
    : T extends readonly (infer E)[]
      ? Lenient<E>[]
      : T extends object
        ? { [K in Exclude<keyof T, OptKeys<T>>]: Lenient<T[K]> } & { [K in OptKeys<T>]?: Lenient<T[K]> }
        : T;

type LenientMethod<M> = M extends ActorMethod<infer A, infer R> ? (...args: { [I in keyof A]: Lenient<A[I]> }) => Promise<R> : never;

/** the management canister's methods, typed from Azle's Candid, with lenient arguments */
export type ManagementCanister = { [K in keyof _SERVICE]: LenientMethod<_SERVICE[K]> };

/** fills what Lenient lets a caller leave out: absent or `null` optional values become `[]` */
function complete(t: IDL.Type, v: unknown): unknown {
  if (t instanceof IDL.RecClass) return complete(t.getType()!, v);
  if (t instanceof IDL.OptClass) {
    if (v === undefined || v === null) return [];
    return Array.isArray(v) && v.length === 1 ? [complete(t._type, v[0])] : v;
  }
  if (t instanceof IDL.RecordClass && !(t instanceof IDL.TupleClass) && v && typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    return Object.fromEntries(t._fields.map(([k, ft]) => [k, complete(ft, rec[k])]));
  }
  if (t instanceof IDL.VariantClass && v && typeof v === 'object') {
    const [k] = Object.keys(v);
    const ft = t._fields.find(([name]) => name === k)?.[1];
    return ft ? { [k!]: complete(ft, (v as Record<string, unknown>)[k!]) } : v;
  }
  if (t instanceof IDL.VecClass && Array.isArray(v)) return v.map((e) => complete(t._type, e));
  return v;
}

/** Management-canister actor; a call naming a canister (`canister_id`, `target_canister`) is sent with it as its effective id. */
export function managementActor(agent: HttpAgent): ManagementCanister {
  const service = idlFactory({ IDL });
  const actor = Actor.createActor<_SERVICE>(idlFactory, {
    agent,
    canisterId: Principal.managementCanister(),
    callTransform: (_method, args) => {
      const a = args[0] as { canister_id?: Principal; target_canister?: Principal } | undefined;
      return { effectiveCanisterId: a?.canister_id ?? a?.target_canister ?? Principal.managementCanister() };
    }
  });
  const methods = new Map(service._fields);
  return new Proxy(actor, {
    get(target, name, receiver) {
      const fn = Reflect.get(target, name, receiver) as unknown;
      const func = typeof name === 'string' ? methods.get(name) : undefined;
      if (typeof fn !== 'function' || !func) return fn;
      return (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(...args.map((a, i) => complete(func.argTypes[i]!, a)));
    }
  }) as unknown as ManagementCanister;
}
