// Errors the CLI reports as one line (and a non-zero exit), never as a stack trace.

/** A failure with a message meant for the user. `usage` errors exit with 2, others with 1. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, true);

/**
 * The one line to show for any error: a canister's refusal reason without the replica's wrapping
 * ("Reject text: Error from Canister …: Canister called `ic0.trap` with message: 'Uncaught X: …'"),
 * a network failure as "cannot reach …", anything else as its first line.
 */
export function errorLine(err: unknown, host?: string): string {
  if (err instanceof CliError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
  const causeText = cause instanceof Error ? `${cause.message} ${(cause as { code?: string }).code ?? ''}` : '';
  const reject = /Reject text: ([^\n]*)/.exec(message) ?? /reject_message[\"']?: ?[\"']([^\"'\n]*)/.exec(message);
  if (reject) return cleanReject(reject[1]!);
  if (/ECONNREFUSED|fetch failed|ENOTFOUND|EAI_AGAIN|ECONNRESET/.test(message + ' ' + causeText)) {
    return `cannot reach ${host ?? 'the network'}${host?.includes('127.0.0.1') || host?.includes('localhost') ? ' (is `npm start` running?)' : ''}`;
  }
  const first = message.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error';
  return first;
}

export function cleanReject(text: string): string {
  let t = text.trim();
  t = t.replace(/^Error from Canister [a-z0-9-]+: /, '');
  t = t.replace(/^Canister called `ic0\.trap` with message: '?/, '');
  t = t.replace(/^Uncaught /, '');
  t = t.replace(/^[A-Za-z]*Error: /, '');
  t = t.replace(/\s+at \S+ \(.*$/, '');
  t = t.replace(/'$/, '');
  return t.trim();
}
