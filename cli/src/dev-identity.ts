// For `npm start`: the CLI's default identity (created as "default" if there is none), which the
// local dev DAO makes its founding member and delegate.
import type { SignIdentity } from '@dfinity/agent';
import { IdentityStore } from './identity.ts';

export async function defaultIdentityForDev(store = new IdentityStore()): Promise<{ identity: SignIdentity; name: string; created: boolean }> {
  const existing = store.defaultName();
  if (existing && store.has(existing)) return { identity: store.load(existing), name: existing, created: false };
  const name = 'default';
  if (store.has(name)) {
    store.setDefault(name);
    return { identity: store.load(name), name, created: false };
  }
  const identity = store.create(name);
  store.setDefault(name);
  return { identity, name, created: true };
}
