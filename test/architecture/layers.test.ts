// The canister's folders are layers that import one way, checked by reading the import statements
// of every file under canister/src:
//   atproto → repo → storage → bsky → xrpc → pds → governance → api → ic → main.ts
// Only the Azle entry (main.ts) and the IC adapters (ic/) import `azle`; governance never imports
// the PDS; nothing imports a later layer; the agents' entry (api/interface.ts) stays importable
// from Node and browsers (only @dfinity packages and its own pure files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../canister/src/', import.meta.url));
const LAYERS = ['atproto', 'repo', 'storage', 'bsky', 'xrpc', 'pds', 'governance', 'api', 'ic', 'main.ts'] as const;
const AZLE_ALLOWED = ['main.ts', 'ic'];
const CLIENT_ENTRY = 'api/interface.ts';
const CLIENT_PACKAGES = ['@dfinity/candid', '@dfinity/principal', '@dfinity/agent'];

type Sources = Map<string, string>; // path relative to canister/src -> source text

function readSources(dir = SRC, out: Sources = new Map()): Sources {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) readSources(full, out);
    else if (name.endsWith('.ts')) out.set(relative(SRC, full), readFileSync(full, 'utf8'));
  }
  return out;
}

/** Module specifiers of import/export-from statements, side-effect imports and dynamic imports. */
export function importsOf(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  return specs;
}

const layerOf = (path: string): number => LAYERS.indexOf(path.split('/')[0] as (typeof LAYERS)[number]);
const resolve = (from: string, spec: string) => normalize(join(dirname(from), spec));
const isAzle = (spec: string) => spec === 'azle' || spec.startsWith('azle/');

/** Every broken rule, as one readable line each (empty: the layering holds). */
export function violations(sources: Sources): string[] {
  const out: string[] = [];
  for (const [file, source] of sources) {
    const layer = layerOf(file);
    if (layer < 0) out.push(`${file}: not in a known layer (${LAYERS.join(', ')})`);
    for (const spec of importsOf(source)) {
      if (isAzle(spec) && !AZLE_ALLOWED.includes(file.split('/')[0]!)) out.push(`${file}: imports ${spec} (only main.ts and ic/ may)`);
      if (!spec.startsWith('.')) continue;
      const target = resolve(file, spec);
      if (target.startsWith('..')) {
        out.push(`${file}: imports ${spec}, outside canister/src`);
        continue;
      }
      if (file.startsWith('governance/') && target.startsWith('pds/')) out.push(`${file}: governance imports the PDS (${target})`);
      const targetLayer = layerOf(target);
      if (layer >= 0 && targetLayer > layer) out.push(`${file}: imports ${target} from a later layer (${LAYERS[targetLayer]} after ${LAYERS[layer]})`);
    }
  }
  return out;
}

/** Packages reached from `entry` through its relative imports, and the files visited. */
function reach(sources: Sources, entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of importsOf(sources.get(file) ?? '')) {
      if (spec.startsWith('.')) visit(resolve(file, spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

const sources = readSources();

test('the canister sources follow the layer order, azle stays in main.ts and ic/, governance never imports the PDS', () => {
  assert.ok(sources.size > 50, 'the sources were found');
  assert.deepEqual(violations(sources), []);
});

test('the agents\' entry (api/interface.ts) reaches only @dfinity packages and pure files', () => {
  const { files, packages } = reach(sources, CLIENT_ENTRY);
  for (const f of files) assert.ok(sources.has(f), `${f} exists`);
  assert.deepEqual([...packages].filter((p) => !CLIENT_PACKAGES.includes(p)), []);
});

test('the checks see each kind of violation', () => {
  const bad: Sources = new Map([
    ['pds/a.ts', "import { x } from 'azle';\nimport { y } from '../api/interface.ts';"],
    ['governance/b.ts', "import type { Pds } from '../pds/pds.ts';"],
    ['repo/c.ts', "export { z } from '../storage/kv.ts';\nconst m = await import('../bsky/post.ts');"],
    ['misc/d.ts', "import '../atproto/cbor.ts';"],
    // comments do not count
    ['atproto/e.ts', "// import { x } from 'azle';\n/* import '../main.ts'; */"],
  ]);
  assert.deepEqual(violations(bad), [
    "pds/a.ts: imports azle (only main.ts and ic/ may)",
    'pds/a.ts: imports api/interface.ts from a later layer (api after pds)',
    'governance/b.ts: governance imports the PDS (pds/pds.ts)',
    'repo/c.ts: imports storage/kv.ts from a later layer (storage after repo)',
    'repo/c.ts: imports bsky/post.ts from a later layer (bsky after repo)',
    'misc/d.ts: not in a known layer (atproto, repo, storage, bsky, xrpc, pds, governance, api, ic, main.ts)',
  ]);
});
