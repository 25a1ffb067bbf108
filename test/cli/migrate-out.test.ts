// `canopy migrate out` with more than one member: it proposes the destination, votes yes, and stops
// saying which proposal waits for votes; run again, it neither proposes nor votes twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { migrateOut } from '../../cli/src/migrate-out.ts';
import type { CanopyActor } from '../../cli/src/client.ts';

const ME = 'aaaaa-aa';

test('more members: the destination proposal is made and voted once, then the command reports what waits', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/xrpc/com.atproto.server.describeServer')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"did":"did:web:dest.test"}');
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const to = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const proposals: any[] = [];
  const votes: string[] = [];
  const calls = { propose: 0, vote: 0, serviceAuth: 0 };
  const actor = {
    get_status: async () => ({ did: 'did:plc:abcdefghijklmnopqrstuvwx', plc_url: ['http://127.0.0.1:1'], pds_url: 'http://127.0.0.1:1', active: true }),
    list_proposals: async () => ({ proposals: [...proposals].reverse(), next: [] }),
    propose: async ({ action }: any) => {
      calls.propose++;
      proposals.push({ id: BigInt(proposals.length + 1), action, status: { open: null } });
      return BigInt(proposals.length);
    },
    get_proposal: async (id: bigint) => [proposals[Number(id) - 1]],
    list_votes: async () => ({ votes: votes.map((principal) => ({ principal })), next: [] }),
    vote: async ({ id }: any) => {
      calls.vote++;
      votes.push(ME);
      return proposals[Number(id) - 1]; // two members: still open
    },
    migration_service_auth: async () => {
      calls.serviceAuth++;
      return 'token';
    },
  } as unknown as CanopyActor;
  const opts = { to, handle: 'moved.test', email: 'm@example.com', password: 'pw' };
  const steps: string[] = [];
  const first = await migrateOut(actor, ME, opts, (step) => steps.push(step));
  assert.deepEqual(first, { did: 'did:plc:abcdefghijklmnopqrstuvwx', pds: to, status: 'waiting', proposal: 1n, waitingFor: `votes on proposal 1 (moving to ${to})` });
  assert.deepEqual(proposals[0].action, { migrate_out: { pds_url: to, pds_did: 'did:web:dest.test', credentials: [] } });
  assert.deepEqual(steps, ['destination', 'propose', 'vote']);
  const again = await migrateOut(actor, ME, opts, () => undefined);
  assert.equal(again.status, 'waiting');
  assert.deepEqual(calls, { propose: 1, vote: 1, serviceAuth: 0 });
});
