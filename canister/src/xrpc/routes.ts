// The routing table, as data: which paths are served, which NSIDs are reads, which are closed writes.
import type { Handler } from './context.ts';
import { getBlob, listBlobs } from './handlers/blobs.ts';
import { atprotoDid, didJson, resolveHandle } from './handlers/identity.ts';
import { describeRepo, getRecord, listRecords } from './handlers/repo.ts';
import { describeServer, health, rootPage } from './handlers/server.ts';
import * as sync from './handlers/sync.ts';

/** XRPC queries served in the http_request query call (GET/HEAD). */
export const XRPC_QUERIES: Record<string, Handler> = {
  'com.atproto.server.describeServer': describeServer,
  'com.atproto.repo.describeRepo': describeRepo,
  'com.atproto.repo.getRecord': getRecord,
  'com.atproto.repo.listRecords': listRecords,
  'com.atproto.sync.getRepo': sync.getRepo,
  'com.atproto.sync.getLatestCommit': sync.getLatestCommit,
  'com.atproto.sync.getRepoStatus': sync.getRepoStatus,
  'com.atproto.sync.getRecord': sync.getRecord,
  'com.atproto.sync.getBlocks': sync.getBlocks,
  'com.atproto.sync.listRepos': sync.listRepos,
  'com.atproto.sync.listBlobs': listBlobs,
  'com.atproto.sync.getBlob': getBlob,
  'com.atproto.identity.resolveHandle': resolveHandle,
  _health: health,
};

/** Non-XRPC paths (GET/HEAD). */
export const PAGES: Record<string, Handler> = {
  '/': rootPage,
  '/.well-known/atproto-did': atprotoDid,
  '/.well-known/did.json': didJson,
};

/**
 * Writes and session/account endpoints: always 401, whatever the method or body, with no state change.
 * Whole namespaces whose every other method needs an authenticated account are closed by prefix.
 */
export const CLOSED_PREFIXES = ['com.atproto.repo.', 'com.atproto.server.', 'com.atproto.admin.', 'com.atproto.temp.'];
export const CLOSED_METHODS = new Set([
  'com.atproto.identity.updateHandle',
  'com.atproto.identity.submitPlcOperation',
  'com.atproto.identity.signPlcOperation',
  'com.atproto.identity.requestPlcOperationSignature',
  'com.atproto.identity.getRecommendedDidCredentials',
  'com.atproto.identity.refreshIdentity',
  'com.atproto.moderation.createReport',
  'app.bsky.actor.getPreferences',
  'app.bsky.actor.putPreferences',
]);

export const WRITES_CLOSED_MESSAGE =
  'Writes over HTTP are closed on this PDS. The repository is changed only through the canister\'s Candid ' +
  'interface: governance proposals adopted by the community, or delegates authorized by governance, each ' +
  'calling as an authenticated Internet Computer principal (see the `canopy` CLI).';

export function isClosed(nsid: string): boolean {
  if (Object.prototype.hasOwnProperty.call(XRPC_QUERIES, nsid)) return false;
  return CLOSED_METHODS.has(nsid) || CLOSED_PREFIXES.some((p) => nsid.startsWith(p));
}
