// Inputs of the Bluesky record builders (posts, profiles) and what they need to know about the
// account. Used by governance proposals and by the CLI's delegate writes alike.

/** A builder's refusal: the message says what is wrong with the input. */
export class RecordInputError extends Error {
  override name = 'RecordInputError';
}

/** What the builders look up: the account's identity and the blobs it has stored. */
export interface AccountEnv {
  did(): string;
  handle(): string;
  /** Uploaded blob metadata, or undefined if no such blob is stored. */
  blob(cid: string): { mimeType: string; size: number } | undefined;
}

export type StrongRef = { uri: string; cid: string };
export type ImageInput = { cid: string; alt: string; aspectRatio?: { width: number; height: number } };
export type MentionMapping = { handle: string; did: string };

export type PostInput = {
  text: string;
  langs?: string[];
  /** handle → DID for mentions the canister cannot resolve itself (its own handle it resolves). */
  mentions?: MentionMapping[];
  reply?: { root: StrongRef; parent: StrongRef };
  images?: ImageInput[];
  quote?: StrongRef;
};

/** Profile changes: a field left out stays as it is; an empty string removes it. Blobs are CIDs. */
export type ProfileInput = { displayName?: string; description?: string; avatar?: string; banner?: string };

/** Blob reference in the atproto data model shape the executor writes ($type 'blob', ref is a CID). */
export type ProfilePatch = {
  displayName?: string | null;
  description?: string | null;
  avatar?: unknown | null;
  banner?: unknown | null;
};
