// Typed constructors over @dfinity/candid's IDL values. `IDL.Record`/`IDL.Variant` are typed
// `Record<string, any>` and the fixed-width nats `bigint | number`, so each builder here returns the
// same IDL value with the precise JavaScript type of what it encodes/decodes. `TypeOf<T>` reads that
// type back: every TypeScript shape of the Candid interface is derived, never written by hand.
// Pure (no `azle`): the canister, Node agents and browsers import it alike.
import { IDL } from '@dfinity/candid';
import type { Principal } from '@dfinity/principal';

/** The JavaScript value an IDL type encodes and decodes. */
export type TypeOf<T> = T extends IDL.Type<infer U> ? U : never;

type Fields = Record<string, IDL.Type>;
/** `IDL.Func`'s argument list type (empty, or at least one type). */
type FuncArgs = [] | [IDL.Type, ...IDL.Type[]];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type Opt<T> = [] | [T];

export const text = IDL.Text as IDL.Type<string>;
export const bool = IDL.Bool as IDL.Type<boolean>;
export const nat = IDL.Nat as IDL.Type<bigint>;
export const nat64 = IDL.Nat64 as IDL.Type<bigint>;
export const nat32 = IDL.Nat32 as unknown as IDL.Type<number>;
export const nat16 = IDL.Nat16 as unknown as IDL.Type<number>;
export const float64 = IDL.Float64 as IDL.Type<number>;
export const unit = IDL.Null as IDL.Type<null>;
/** `vec nat8`: decoded as a Uint8Array. */
export const bytes = IDL.Vec(IDL.Nat8) as unknown as IDL.Type<Uint8Array>;

export const opt = <T>(t: IDL.Type<T>) => IDL.Opt(t) as IDL.Type<Opt<T>>;
export const vec = <T>(t: IDL.Type<T>) => IDL.Vec(t) as IDL.Type<T[]>;
export const record = <F extends Fields>(fields: F) =>
  IDL.Record(fields) as unknown as IDL.Type<Simplify<{ [K in keyof F]: TypeOf<F[K]> }>>;
export const tuple = <T extends IDL.Type[]>(...types: T) =>
  IDL.Tuple(...types) as unknown as IDL.Type<{ [K in keyof T]: TypeOf<T[K]> }>;
/** A variant: exactly one of the tags, `{ tag: value }`. */
export const variant = <F extends Fields>(fields: F) =>
  IDL.Variant(fields) as unknown as IDL.Type<{ [K in keyof F]: { [P in K]: TypeOf<F[K]> } }[keyof F]>;
/** A variant of bare tags (`variant { a; b }`): its value is `{ a: null }`. */
export const tags = <K extends string>(...names: K[]) =>
  variant(Object.fromEntries(names.map((n) => [n, unit])) as { [P in K]: IDL.Type<null> });
/** A query `func` reference (a callback): `[canister principal, method name]`. */
export const queryFunc = <A extends IDL.Type[], R extends IDL.Type>(args: [...A], ret: R) =>
  IDL.Func(args as IDL.Type[] as FuncArgs, [ret], ['query']) as unknown as IDL.Type<[Principal, string]>;

/** The tag of a one-tag variant value, e.g. `tagOf({ put: null })` is `'put'`. */
export function tagOf<V extends object>(v: V): V extends unknown ? keyof V & string : never {
  const keys = Object.keys(v);
  if (keys.length !== 1) throw new Error('malformed variant');
  return keys[0] as V extends unknown ? keyof V & string : never;
}
/** `{ [name]: null }` for a tag of a bare-tag variant. */
export const tagged = <K extends string>(name: K) => ({ [name]: null }) as K extends unknown ? { [P in K]: null } : never;
export const some = <T>(v: T | null | undefined): Opt<T> => (v === null || v === undefined ? [] : [v]);
export const fromOpt = <T>(v: Opt<T>): T | undefined => (v.length ? v[0] : undefined);

// ---------- methods ----------

export type Mode = 'query' | 'update';
export type MethodSpec<A extends IDL.Type[] = IDL.Type[], R extends IDL.Type = IDL.Type> = { mode: Mode; args: A; ret: R };
export const query = <A extends IDL.Type[], R extends IDL.Type>(args: [...A], ret: R): MethodSpec<A, R> => ({ mode: 'query', args, ret });
export const update = <A extends IDL.Type[], R extends IDL.Type>(args: [...A], ret: R): MethodSpec<A, R> => ({ mode: 'update', args, ret });

/** Argument tuple of a method spec, as JavaScript values. */
export type ArgsOf<M> = M extends MethodSpec<infer A, IDL.Type> ? { [K in keyof A]: TypeOf<A[K]> } : never;
/** Result of a method spec, as a JavaScript value. */
export type RetOf<M> = M extends MethodSpec<IDL.Type[], infer R> ? TypeOf<R> : never;

/** `IDL.Func` of a spec (one result value; `query` annotation for queries). */
export const funcOf = (m: MethodSpec): IDL.FuncClass =>
  IDL.Func(m.args as FuncArgs, [m.ret], m.mode === 'query' ? ['query'] : []);
