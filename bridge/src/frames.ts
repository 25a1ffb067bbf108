// The only frames the bridge builds itself: the #info and error frames the event-stream spec makes the
// server emit at connection time. Everything else is relayed exactly as the canister produced it.
import { encodeErrorFrame, eventFrame, infoEventBody } from '../../canister/src/repo/events.ts';

export function infoFrame(name: string, message?: string): Uint8Array {
  return eventFrame('#info', infoEventBody(name, message));
}

export function errorFrame(error: string, message?: string): Uint8Array {
  return encodeErrorFrame(error, message);
}
