// XRPC errors: {error, message} JSON with the status fixed per error name in one table.
import { jsonResponse, type HttpResponse } from './http.ts';

// Statuses follow the reference PDS (@atproto/pds), measured by test/conformance/error-status.test.ts:
// it raises every lexicon error of a read (RecordNotFound, RepoNotFound, RepoDeactivated, ...) as an
// InvalidRequestError subtype, so they are all 400. Only routes outside XRPC answer 404.
const STATUS_BY_ERROR: Record<string, number> = {
  InvalidRequest: 400,
  AuthMissing: 401,
  NotFound: 404,
  PayloadTooLarge: 413,
  MethodNotImplemented: 501,
  InternalServerError: 500,
};

export class XrpcError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly status: number = STATUS_BY_ERROR[error] ?? 400,
    readonly headers: [string, string][] = [],
  ) {
    super(message);
  }
}

export const invalidRequest = (message: string) => new XrpcError('InvalidRequest', message);

export function errorResponse(err: XrpcError): HttpResponse {
  return jsonResponse({ error: err.error, message: err.message }, err.status, err.headers);
}
