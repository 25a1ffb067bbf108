// Candid text values parsed against expected types: each kind round-trips through @dfinity/candid's
// encoder and decoder, bad input fails with a position, and `propose upgrade --arg` encodes the targets'
// init arguments exactly as IDL.encode does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDL } from '@dfinity/candid';
import { Principal } from '@dfinity/principal';
import { CandidTextError, parseCandidArgs, parseCandidValue } from '../../cli/src/candid-text.ts';
import { parseUpgradeArg } from '../../cli/src/commands/upgrade.ts';
import { initArgs, type InitArgsC } from '../../canister/src/api/interface.ts';
import { InitArgsIdl } from '../../steward/src/interface.ts';

/** Parses `text` as one value of `t`, encodes it, decodes it back. */
function roundTrip(t: IDL.Type, text: string): unknown {
  const v = parseCandidValue(t, text);
  const bytes = IDL.encode([t], [v]);
  return IDL.decode([t], bytes)[0];
}

describe('candid text: each type kind round-trips', () => {
  it('primitives', () => {
    assert.equal(roundTrip(IDL.Text, '"a\\"b\\n\\u{1F600}\\e9"'.replace('\\e9', 'é')), 'a"b\n😀é');
    assert.equal(roundTrip(IDL.Text, '"caf\\c3\\a9"'), 'café');
    assert.equal(roundTrip(IDL.Bool, 'true'), true);
    assert.equal(roundTrip(IDL.Bool, ' false '), false);
    assert.equal(roundTrip(IDL.Null, 'null'), null);
    assert.equal(roundTrip(IDL.Reserved, 'null'), null);
    assert.equal((roundTrip(IDL.Principal, 'principal "aaaaa-aa"') as Principal).toText(), 'aaaaa-aa');
    assert.equal((roundTrip(IDL.Principal, 'principal "ryjl3-tyaaa-aaaaa-aaaba-cai"') as Principal).toText(), 'ryjl3-tyaaa-aaaaa-aaaba-cai');
  });

  it('numbers: separators, hex, signs, annotations, bounds of fixed widths', () => {
    assert.equal(roundTrip(IDL.Nat, '1_000_000_000_000_000_000_000'), 10n ** 21n);
    assert.equal(roundTrip(IDL.Int, '-42'), -42n);
    assert.equal(roundTrip(IDL.Int, '+7'), 7n);
    assert.equal(roundTrip(IDL.Nat8, '255'), 255);
    assert.equal(roundTrip(IDL.Nat16, '0xff_ff'), 65535);
    assert.equal(roundTrip(IDL.Nat32, '4_294_967_295'), 4294967295);
    assert.equal(roundTrip(IDL.Nat64, '18_446_744_073_709_551_615 : nat64'), 2n ** 64n - 1n);
    assert.equal(roundTrip(IDL.Nat64, '(5 : nat64)'), 5n);
    assert.equal(roundTrip(IDL.Int8, '-128'), -128);
    assert.equal(roundTrip(IDL.Int16, '-32768'), -32768);
    assert.equal(roundTrip(IDL.Int32, '2147483647'), 2147483647);
    assert.equal(roundTrip(IDL.Int64, '-9_223_372_036_854_775_808'), -(2n ** 63n));
    assert.equal(roundTrip(IDL.Float64, '-1.5e3'), -1500);
    assert.equal(roundTrip(IDL.Float32, '0.5'), 0.5);
    assert.equal(roundTrip(IDL.Float64, '3'), 3);
  });

  it('opt, vec, blob', () => {
    assert.deepEqual(roundTrip(IDL.Opt(IDL.Nat64), 'null'), []);
    assert.deepEqual(roundTrip(IDL.Opt(IDL.Nat64), 'opt 9'), [9n]);
    assert.deepEqual(roundTrip(IDL.Opt(IDL.Opt(IDL.Text)), 'opt null'), [[]]);
    assert.deepEqual(roundTrip(IDL.Vec(IDL.Text), 'vec { "a"; "b"; }'), ['a', 'b']);
    assert.deepEqual(roundTrip(IDL.Vec(IDL.Text), 'vec {}'), []);
    assert.deepEqual(roundTrip(IDL.Vec(IDL.Vec(IDL.Nat32)), 'vec { vec { 1; 2 }; vec {} }'), [Uint32Array.from([1, 2]), new Uint32Array()]);
    assert.deepEqual(roundTrip(IDL.Vec(IDL.Nat8), 'vec { 1; 2; 255 }'), Uint8Array.from([1, 2, 255]));
    assert.deepEqual(roundTrip(IDL.Vec(IDL.Nat8), 'blob "\\00\\ffab\\n"'), Uint8Array.from([0, 255, 97, 98, 10]));
  });

  it('record (names, numeric ids, omitted opt fields), tuple, variant', () => {
    const R = IDL.Record({ name: IDL.Text, count: IDL.Nat32, note: IDL.Opt(IDL.Text) });
    assert.deepEqual(roundTrip(R, 'record { name = "x"; count = 3 }'), { name: 'x', count: 3, note: [] });
    assert.deepEqual(roundTrip(R, 'record { count = 3; name = "x"; note = opt "n"; }'), { name: 'x', count: 3, note: ['n'] });
    const N = IDL.Record({ _0_: IDL.Text, _5_: IDL.Bool });
    assert.deepEqual(roundTrip(N, 'record { 5 = true; 0 = "z" }'), { _0_: 'z', _5_: true });
    const T = IDL.Tuple(IDL.Text, IDL.Nat);
    assert.deepEqual(roundTrip(T, 'record { "a"; 7 }'), ['a', 7n]);
    assert.deepEqual(roundTrip(T, 'record { 0 = "a"; 1 = 7 }'), ['a', 7n]);
    const V = IDL.Variant({ web: IDL.Record({ hostname: IDL.Text }), none: IDL.Null });
    assert.deepEqual(roundTrip(V, 'variant { web = record { hostname = "h" } }'), { web: { hostname: 'h' } });
    assert.deepEqual(roundTrip(V, 'variant { none }'), { none: null });
    assert.deepEqual(roundTrip(V, 'variant { none = null; }'), { none: null });
  });

  it('value lists', () => {
    const types = [IDL.Text, IDL.Nat64];
    assert.deepEqual(parseCandidArgs(types, '("a", 1)'), ['a', 1n]);
    assert.deepEqual(parseCandidArgs(types, '( "a" , 1 , )'), ['a', 1n]);
    assert.deepEqual(parseCandidArgs([], '()'), []);
    // a missing trailing opt argument is null
    assert.deepEqual(parseCandidArgs([IDL.Text, IDL.Opt(IDL.Nat)], '("a")'), ['a', []]);
  });
});

describe('candid text: errors name what was expected and where', () => {
  const cases: [IDL.Type[], string, RegExp][] = [
    [[InitArgsIdl], '(variant { canopy = principal "aaaaa-aa" })', /^expected record for .* at 1$/],
    [[InitArgsIdl], '(record { canopy = "aaaaa-aa" })', /^expected principal at 19$/],
    [[InitArgsIdl], '(record { canopy = principal "not a principal" })', /^expected a valid principal at 19$/],
    [[InitArgsIdl], '(record { steward = principal "aaaaa-aa" })', /^expected a field of .* at 10$/],
    [[InitArgsIdl], '(record {})', /^expected field canopy in the record at 1$/],
    [[InitArgsIdl], '(record { canopy = principal "aaaaa-aa"', /^expected "}" at 39$/],
    [[InitArgsIdl], '(record { canopy = principal "aaaaa-aa" }) x', /^expected end of input at 43$/],
    [[IDL.Nat8], '(256)', /^expected a nat8 \(0\.\.255\) at 1$/],
    [[IDL.Nat], '(-1)', /^expected a natural number at 1$/],
    [[IDL.Nat64], '(1 : nat32)', /^expected type nat64 at 5$/],
    [[IDL.Bool], '(yes)', /^expected bool at 1$/],
    [[IDL.Text], '("abc)', /^expected closing " at 6$/],
    [[IDL.Text], '("\\q")', /^expected an escape .* at 2$/],
    [[IDL.Text], '("\\ff")', /^expected text that is valid UTF-8 at 1$/],
    [[IDL.Opt(IDL.Nat)], '(5)', /^expected opt \(or null\) for opt nat at 1$/],
    [[IDL.Vec(IDL.Text)], '(blob "x")', /^expected vec at 1$/],
    [[IDL.Variant({ a: IDL.Nat })], '(variant { a })', /^expected "=" and a value for a at 13$/],
    [[IDL.Tuple(IDL.Nat, IDL.Nat)], '(record { 1 })', /^expected 2 fields in the tuple at 1$/],
    [[IDL.Text], '"a"', /^expected "\(" at 0$/],
    [[IDL.Text, IDL.Text], '("a")', /^expected 2 arguments .* at 4$/],
  ];
  for (const [types, text, message] of cases) {
    it(text, () => assert.throws(() => parseCandidArgs(types, text), (e) => e instanceof CandidTextError && message.test(e.message)));
  }
});

describe('propose upgrade --arg', () => {
  const canopyInit: InitArgsC = {
    ecdsa_key_name: 'key_1',
    did_method: { plc: { plc_url: 'https://plc.directory' } },
    handle: 'coop.example.com',
    pds_url: 'https://pds.example.com',
    governance: {
      members: [{ principal: '2vxsx-fae', power: 3n }, { principal: 'aaaaa-aa', power: 1n }],
      rules: { voting_period_ns: 86_400_000_000_000n, quorum_bps: 5000, threshold_bps: 6667 },
      delegates: [{ principal: 'rrkah-fqaaa-aaaaa-aaaaq-cai', scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }, { delete: null }], writes_per_day: 500, expires_at_ns: [] } }],
    },
    event_retention: [{ min_events: 10_000, min_age_ns: 604_800_000_000_000n }],
    blob_max_bytes: [],
    blob_grace_ns: [3_600_000_000_000n],
  };
  const canopyText = `(record {
    ecdsa_key_name = "key_1";
    did_method = variant { plc = record { plc_url = "https://plc.directory" } };
    handle = "coop.example.com";
    pds_url = "https://pds.example.com";
    governance = record {
      members = vec { record { principal = "2vxsx-fae"; power = 3 : nat64 }; record { principal = "aaaaa-aa"; power = 1 } };
      rules = record { voting_period_ns = 86_400_000_000_000; quorum_bps = 5_000; threshold_bps = 6667 };
      delegates = vec { record { principal = "rrkah-fqaaa-aaaaa-aaaaq-cai"; scope = record { collections = vec { "app.bsky.feed.post" }; actions = vec { variant { create }; variant { delete } }; writes_per_day = 500 } } };
    };
    event_retention = opt record { min_events = 10_000; min_age_ns = 604_800_000_000_000 };
    blob_grace_ns = opt 3_600_000_000_000;
  })`;

  it('a full Canopy InitArgs text encodes exactly as IDL.encode of the same value', () => {
    assert.deepEqual(parseUpgradeArg(canopyText, 'canopy'), new Uint8Array(IDL.encode([...initArgs], [canopyInit])));
  });

  it("the steward's init argument", () => {
    const p = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
    const expected = new Uint8Array(IDL.encode([InitArgsIdl], [{ canopy: p }]));
    assert.deepEqual(parseUpgradeArg('(record { canopy = principal "ryjl3-tyaaa-aaaaa-aaaba-cai" })', 'steward'), expected);
  });

  it('() or nothing is no argument; hex DIDL bytes pass through', () => {
    assert.equal(parseUpgradeArg(undefined, 'canopy').length, 0);
    assert.equal(parseUpgradeArg(' ( ) ', 'steward').length, 0);
    assert.deepEqual(parseUpgradeArg('4449444C0000', 'canopy'), Uint8Array.from([0x44, 0x49, 0x44, 0x4c, 0, 0]));
  });

  it("a value of the other target's type is a usage error naming the target", () => {
    assert.throws(() => parseUpgradeArg('(record { canopy = principal "aaaaa-aa" })', 'canopy'), /--arg for canopy: expected a field of .* at 10/);
    assert.throws(() => parseUpgradeArg(canopyText, 'steward'), /--arg for steward: expected a field of/);
  });
});
