// Certified state as the IC represents it: a labeled tree, turned into a hash tree whose forks are
// balanced over sorted labels, and witnesses that reveal only requested paths (everything else
// pruned to its digest). Hashing per the interface spec "Certificate" section.
import { sha256 } from '@noble/hashes/sha2';
import { concat, type CborValue } from './cbor.ts';
import { compareBytes } from './request-id.ts';

export type HashTree =
  | [0]
  | [1, HashTree, HashTree]
  | [2, Uint8Array, HashTree]
  | [3, Uint8Array]
  | [4, Uint8Array];

/** A labeled tree: a leaf value or a node of children sorted by label bytes. */
export type LabeledTree = Uint8Array | Map<string, LabeledTree>;

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function domainSep(s: string): Uint8Array {
  const b = utf8(s);
  return concat([Uint8Array.of(b.length), b]);
}
const EMPTY = domainSep('ic-hashtree-empty');
const FORK = domainSep('ic-hashtree-fork');
const LABELED = domainSep('ic-hashtree-labeled');
const LEAF = domainSep('ic-hashtree-leaf');

export function digest(t: HashTree): Uint8Array {
  switch (t[0]) {
    case 0:
      return sha256(EMPTY);
    case 1:
      return sha256(concat([FORK, digest(t[1]), digest(t[2])]));
    case 2:
      return sha256(concat([LABELED, t[1], digest(t[2])]));
    case 3:
      return sha256(concat([LEAF, t[1]]));
    case 4:
      return t[1];
  }
}

/** Labels are map keys as hex so that byte labels (principals, request ids) sort and compare exactly. */
export const labelKey = (label: Uint8Array | string): string =>
  Buffer.from(typeof label === 'string' ? utf8(label) : label).toString('hex');

function sortedChildren(node: Map<string, LabeledTree>): [Uint8Array, LabeledTree][] {
  return [...node.entries()]
    .map(([k, v]) => [Uint8Array.from(Buffer.from(k, 'hex')), v] as [Uint8Array, LabeledTree])
    .sort(([a], [b]) => compareBytes(a, b));
}

/** Build the full hash tree (nothing pruned). */
export function toHashTree(t: LabeledTree): HashTree {
  if (t instanceof Uint8Array) return [3, t];
  const kids = sortedChildren(t).map(([l, sub]): HashTree => [2, l, toHashTree(sub)]);
  return balance(kids);
}

function balance(items: HashTree[]): HashTree {
  if (items.length === 0) return [0];
  if (items.length === 1) return items[0]!;
  const mid = Math.ceil(items.length / 2);
  return [1, balance(items.slice(0, mid)), balance(items.slice(mid))];
}

const nodeDigests = new WeakMap<Map<string, LabeledTree>, Uint8Array>();

/** Root digest of a labeled tree (same as digest(toHashTree(t))), memoized per node object. */
export function treeDigest(t: LabeledTree): Uint8Array {
  if (t instanceof Uint8Array) return digest([3, t]);
  const hit = nodeDigests.get(t);
  if (hit) return hit;
  const kids = sortedChildren(t).map(([l, sub]): HashTree => [4, labeledDigest(l, sub)]);
  const d = digest(balance(kids));
  nodeDigests.set(t, d);
  return d;
}

const labeledDigest = (label: Uint8Array, sub: LabeledTree) => sha256(concat([LABELED, label, treeDigest(sub)]));

/**
 * A witness for `paths`: reveals each requested path's subtree in full, proves absence of missing
 * labels by revealing their neighbours' labels, and prunes the rest. Same root digest as toHashTree.
 */
export function witness(t: LabeledTree, paths: Uint8Array[][]): HashTree {
  if (paths.some((p) => p.length === 0)) return toHashTree(t);
  if (t instanceof Uint8Array) return [4, digest([3, t])];
  const kids = sortedChildren(t);
  const wanted = new Map<string, Uint8Array[][]>();
  const reveal = new Set<number>();
  for (const p of paths) {
    const key = Buffer.from(p[0]!).toString('hex');
    const idx = kids.findIndex(([l]) => compareBytes(l, p[0]!) >= 0);
    if (idx >= 0 && compareBytes(kids[idx]![0], p[0]!) === 0) {
      wanted.set(key, [...(wanted.get(key) ?? []), p.slice(1)]);
    } else {
      // absent: reveal the labels around the gap
      if (idx > 0) reveal.add(idx - 1);
      else if (idx < 0 && kids.length) reveal.add(kids.length - 1);
      if (idx >= 0) reveal.add(idx);
    }
  }
  const parts = kids.map(([l, sub], i): [HashTree, boolean] => {
    const rest = wanted.get(Buffer.from(l).toString('hex'));
    if (rest) return [[2, l, witness(sub, rest)], true];
    if (reveal.has(i)) return [[2, l, [4, treeDigest(sub)]], true];
    return [[4, labeledDigest(l, sub)], false];
  });
  return balancePruned(parts);
}

function balancePruned(items: [HashTree, boolean][]): HashTree {
  if (items.length === 0) return [0];
  if (items.length === 1) return items[0]![0];
  const mid = Math.ceil(items.length / 2);
  const left = balancePruned(items.slice(0, mid));
  const right = balancePruned(items.slice(mid));
  const fork: HashTree = [1, left, right];
  return items.some(([, shown]) => shown) ? fork : [4, digest(fork)];
}

export function lookup(t: HashTree, path: (Uint8Array | string)[]): Uint8Array | undefined {
  if (path.length === 0) return t[0] === 3 ? t[1] : undefined;
  const label = typeof path[0] === 'string' ? utf8(path[0]) : path[0]!;
  const found = findLabel(t, label);
  return found ? lookup(found, path.slice(1)) : undefined;
}

function findLabel(t: HashTree, label: Uint8Array): HashTree | undefined {
  if (t[0] === 2) return compareBytes(t[1], label) === 0 ? t[2] : undefined;
  if (t[0] === 1) return findLabel(t[1], label) ?? findLabel(t[2], label);
  return undefined;
}

export function hashTreeToCbor(t: HashTree): CborValue {
  return t as unknown as CborValue;
}

/** Build a labeled tree node from [label, subtree] pairs (labels as text or bytes). */
export function node(entries: [Uint8Array | string, LabeledTree][]): Map<string, LabeledTree> {
  return new Map(entries.map(([l, v]) => [labelKey(l), v]));
}
