// com.atproto.server.describeServer, /xrpc/_health and the plain-text root page.
import type { Handler } from '../context.ts';
import { jsonResponse, textResponse } from '../http.ts';

export const SERVER_VERSION = 'canopy/0.1.0';

/** did:web of the service host named by the PDS URL (port percent-encoded as did:web requires). */
export function serviceDid(pdsUrl: string, fallback: string): string {
  const m = /^https?:\/\/([^/?#@]+)/i.exec(pdsUrl);
  return m ? `did:web:${m[1].toLowerCase().replace(':', '%3A')}` : fallback;
}

export const describeServer: Handler = ({ model }) =>
  jsonResponse({
    did: serviceDid(model.pdsUrl(), model.did()),
    // One community account lives here and no one can sign up over HTTP.
    availableUserDomains: [],
    inviteCodeRequired: true,
    phoneVerificationRequired: false,
  });

export const health: Handler = () => jsonResponse({ version: SERVER_VERSION });

export const rootPage: Handler = ({ model }) =>
  textResponse(
    `This is an AT Protocol Personal Data Server (PDS) running in an Internet Computer canister (Canopy).\n\n` +
      `It hosts one community-governed account: ${model.handle()} (${model.did()}).\n` +
      `Reads: the /xrpc/com.atproto.* endpoints. Writes are made through the canister's Candid interface by ` +
      `governance, never over HTTP.\n`,
  );
