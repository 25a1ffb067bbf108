// Azle stable mode installs a throwing getter on globalThis.Buffer when its globals load;
// cborg (under @ipld/dag-cbor) probes Buffer at load and would die. Import azle first so its
// getter exists, then replace it with a plain `undefined` before anything else loads.
import 'azle';
Object.defineProperty(globalThis, 'Buffer', { value: undefined, configurable: true, writable: true });
