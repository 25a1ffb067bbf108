// XRPC errors: {error, message} JSON with the status fixed per error name in one table.
import { jsonResponse, type HttpResponse } from './http.ts';

const STATUS_BY_ERROR: Record<string, number> = {
  InvalidRequest: 400,
  AuthRequired: 401,
  RecordNotFound: 404,
  RepoNotFound: 404,
  BlobNotFound: 404,
  BlockNotFound: 404,
  HandleNotFound: 404,
  RepoDeactivated: 404,
  RepoTakendown: 404,
  RepoSuspended: 404,
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
