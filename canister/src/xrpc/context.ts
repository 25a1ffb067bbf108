// What every handler receives, and the account checks they share.
import type { XrpcDeps } from './deps.ts';
import { XrpcError } from './errors.ts';
import type { HttpRequest, HttpResponse } from './http.ts';
import type { PdsReadModel, RepoHead } from './model.ts';
import type { Params } from './params.ts';

export type Ctx = { req: HttpRequest; model: PdsReadModel; deps: XrpcDeps; params: Params };
export type Handler = (ctx: Ctx) => HttpResponse;

const UNAVAILABLE_ERROR = { deactivated: 'RepoDeactivated', takendown: 'RepoTakendown', suspended: 'RepoSuspended' } as const;

/** The DID must be this PDS's account (it hosts exactly one). */
export function requireOwnDid(model: PdsReadModel, did: string): void {
  if (did !== model.did()) throw new XrpcError('RepoNotFound', `Could not find repo for DID: ${did}`);
}

/** An at-identifier (DID or handle) naming this PDS's account. */
export function requireOwnRepo(model: PdsReadModel, ident: string): void {
  const ours = ident.startsWith('did:') ? ident === model.did() : ident.toLowerCase() === model.handle().toLowerCase();
  if (!ours) throw new XrpcError('RepoNotFound', `Could not find repo: ${ident}`);
}

/** Serving repo contents needs an active account; a deactivated one answers with the lexicon's error. */
export function requireActive(model: PdsReadModel): void {
  const { active, status } = model.accountStatus();
  if (active) return;
  const error = status ? UNAVAILABLE_ERROR[status] : 'RepoDeactivated';
  throw new XrpcError(error, `Repo is not active${status ? ` (${status})` : ''}: ${model.did()}`);
}

export function requireHead(model: PdsReadModel): RepoHead {
  const head = model.head();
  if (!head) throw new XrpcError('RepoNotFound', `Repo has no commits yet: ${model.did()}`);
  return head;
}

export const atUri = (did: string, collection: string, rkey: string) => `at://${did}/${collection}/${rkey}`;
