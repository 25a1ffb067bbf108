// Runs Azle's build steps for one canister (what `azle build <name>` does) with one change: the
// module name QuickJS gives the bundled JavaScript (Azle's `mainJsPath`, embedded in the wasm) is
// relative to the repository instead of absolute, so the wasm does not depend on where the
// repository sits. It also embeds the Candid interface as the public `candid:service` metadata
// section, which dfx would otherwise add by rewriting the module (dfx.json tells dfx to leave the
// module alone, so what is installed is byte for byte this file).
// Run from the repository root: `node --import tsx scripts/azle-build.ts <name>`; reads the
// canister's `main` from dfx.json and CANISTER_CANDID_PATH like `azle build`.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const name = process.argv[2];
if (!name) throw new Error('usage: azle-build.ts <canister name>');
const candidPath = process.env.CANISTER_CANDID_PATH;
if (!candidPath) throw new Error('CANISTER_CANDID_PATH is not defined');
const config = JSON.parse(await readFile('dfx.json', 'utf8')).canisters?.[name];
if (!config?.main) throw new Error(`dfx.json has no canister ${name} with a main entry`);

// Azle's build modules are not in its package exports; load them by file (they resolve Azle's own imports).
const azleBuild = join(process.cwd(), 'node_modules/azle/src/stable/build/commands/build');
const load = (file: string) => import(pathToFileURL(join(azleBuild, file)).href);
const { compile } = await load('javascript.ts');
const { getCandidAndMethodMeta } = await load('candid_and_method_meta/index.ts');
const { getWasmBinary } = await load('wasm_binary/index.ts');
const { version } = JSON.parse(await readFile('node_modules/azle/package.json', 'utf8'));

const outDir = join('.azle', name);
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const js: string = await compile(config.main);
const mainJsPath = join(outDir, 'main.js');
await writeFile(mainJsPath, js);
const wasmData = { envVars: [['AZLE_VERSION', version]], mainJsPath };
const { candid, methodMeta } = await getCandidAndMethodMeta(undefined, candidPath, js, 'pipe', wasmData);
await writeFile(candidPath, candid);
const wasm: Uint8Array = await getWasmBinary('pipe', js, wasmData, methodMeta);
await writeFile(join(outDir, `${name}.wasm`), Buffer.concat([wasm, customSection('icp:public candid:service', candid)]));

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push(n ? b | 0x80 : b);
  } while (n);
  return out;
}

/** A wasm custom section (id 0): name and content, each length-prefixed as the format requires. */
function customSection(sectionName: string, content: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(sectionName);
  const body = [...leb(nameBytes.length), ...nameBytes, ...new TextEncoder().encode(content)];
  return new Uint8Array([0, ...leb(body.length), ...body]);
}
