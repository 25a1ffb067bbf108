// did:plc rotation-key rules shared by the PLC operations (pds) and the proposals that set them (governance).
import { CryptoError, parseDidKey } from './did-key.ts';

/** PLC directories accept at most 5 rotation keys. */
export const MAX_ROTATION_KEYS = 5;

/** Distinct, valid did:keys (any number; the caller applies PLC's bounds). Throws CryptoError. */
export function checkDidKeys(keys: string[]): string[] {
  if (new Set(keys).size !== keys.length) throw new CryptoError('rotation keys must be distinct');
  for (const k of keys) {
    try {
      parseDidKey(k);
    } catch (err) {
      throw new CryptoError(`rotation key ${JSON.stringify(k)} is not a valid did:key: ${(err as Error).message}`);
    }
  }
  return keys;
}
