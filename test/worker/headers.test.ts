// The header rules in isolation: workerd itself consumes the Connection header before a
// Worker sees it, so the "headers named by Connection" rule is checked here directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endToEndHeaders, forwardedRequestHeaders } from '../../proxy-worker/src/headers.ts';
import { upstreamUrl } from '../../proxy-worker/src/config.ts';

test('hop-by-hop headers, and those the Connection header names, are dropped', () => {
  const out = endToEndHeaders(
    new Headers({ connection: 'keep-alive, X-Drop-Me', 'x-drop-me': '1', 'keep-alive': 't=5', te: 'trailers', 'x-keep': 'yes' }),
  );
  assert.deepEqual([...(out as unknown as Iterable<[string, string]>)].map(([k]) => k).sort(), ['x-keep']);
});

test('X-Forwarded-* are added and an existing chain is extended', () => {
  const req = new Request('https://pds.example.org/xrpc/x?y=1', {
    headers: { host: 'pds.example.org', 'cf-connecting-ip': '203.0.113.9', 'x-forwarded-for': '198.51.100.1' },
  });
  const out = forwardedRequestHeaders(req);
  assert.equal(out.get('x-forwarded-for'), '198.51.100.1, 203.0.113.9');
  assert.equal(out.get('x-forwarded-host'), 'pds.example.org');
  assert.equal(out.get('x-forwarded-proto'), 'https');
  assert.equal(out.get('host'), null);
});

test('the upstream URL keeps the query byte for byte after the origin parameters', () => {
  const origin = new URL('http://127.0.0.1:4943/?canisterId=aaaaa-aa');
  const got = upstreamUrl(origin, new URL('https://pds.example.org/xrpc/a.b?x=%2C,y&z=a+b'));
  assert.equal(got.toString(), 'http://127.0.0.1:4943/xrpc/a.b?canisterId=aaaaa-aa&x=%2C,y&z=a+b');
  const raw = upstreamUrl(new URL('https://abc.raw.icp0.io'), new URL('https://h/.well-known/did.json'));
  assert.equal(raw.toString(), 'https://abc.raw.icp0.io/.well-known/did.json');
});
