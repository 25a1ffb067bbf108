// Handle and DID endpoints: resolveHandle for our handle, /.well-known/atproto-did, /.well-known/did.json.
import type { Handler } from '../context.ts';
import { XrpcError } from '../errors.ts';
import { jsonResponse, textResponse } from '../http.ts';

export const resolveHandle: Handler = ({ model, params }) => {
  const handle = params.handle('handle');
  if (handle.toLowerCase() !== model.handle().toLowerCase()) {
    throw new XrpcError('HandleNotFound', `Unable to resolve handle: ${handle}`);
  }
  return jsonResponse({ did: model.did() });
};

export const atprotoDid: Handler = ({ model }) => textResponse(model.did());

export const didJson: Handler = ({ model }) => {
  const doc = model.didDocument();
  if (!model.did().startsWith('did:web:') || !doc) {
    throw new XrpcError('NotFound', 'This account does not use did:web; no DID document is served here');
  }
  return jsonResponse(doc);
};
