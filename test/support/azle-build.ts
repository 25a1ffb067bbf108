// Builds an Azle 0.33 canister offline (no dfx) and caches the wasm by source hash.
// Used by the replica tests (test/fixtures/replica-canister) and the canister helper (canister/src/main.ts).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type AzleBuildOptions = {
    /** canister name (used for the .did / .wasm file names) */
    name: string;
    /** entry file (absolute, or relative to the repo root) */
    main: string;
    /** where the cached wasm goes; default `<repo>/.azle/cache` */
    outDir?: string;
    /** directories whose files make up the cache key; default: the directory of `main` */
    sourceDirs?: string[];
};

async function listFiles(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) out.push(...(await listFiles(full)));
        else out.push(full);
    }
    return out.sort();
}

async function sourceHash(dirs: string[]): Promise<string> {
    const h = createHash('sha256');
    const azlePkg = await readFile(join(REPO, 'node_modules/azle/package.json'));
    h.update(azlePkg);
    for (const dir of dirs) {
        for (const file of await listFiles(dir)) {
            h.update(relative(REPO, file));
            h.update('\0');
            h.update(await readFile(file));
            h.update('\0');
        }
    }
    return h.digest('hex').slice(0, 16);
}

/** Returns the path of the built wasm; rebuilds only when a source file (or the azle version) changed. */
export async function buildAzleCanister(opts: AzleBuildOptions): Promise<string> {
    const main = resolve(REPO, opts.main);
    const outDir = resolve(REPO, opts.outDir ?? '.azle/cache');
    const dirs = (opts.sourceDirs ?? [dirname(main)]).map((d) => resolve(REPO, d));
    const hash = await sourceHash(dirs);
    const wasmPath = join(outDir, `${opts.name}-${hash}.wasm`);
    if (existsSync(wasmPath)) return wasmPath;

    // Build in a private directory so concurrent test files never see a half-written wasm.
    const work = join(REPO, '.azle', 'work', `${opts.name}-${hash}-${process.pid}-${Date.now()}`);
    await mkdir(work, { recursive: true });
    try {
        const candidPath = `.azle/${opts.name}/${opts.name}.did`;
        await writeFile(
            join(work, 'dfx.json'),
            JSON.stringify({
                canisters: {
                    [opts.name]: {
                        type: 'azle',
                        main: relative(work, main),
                        candid: candidPath,
                        custom: { experimental: false }
                    }
                }
            })
        );
        const azleBin = join(REPO, 'node_modules/azle/src/build.ts');
        const nodeBin = process.execPath;
        try {
            await run(nodeBin, ['--import', 'tsx', azleBin, 'build', opts.name], {
                cwd: work,
                env: { ...process.env, CANISTER_CANDID_PATH: candidPath, PATH: `${join(REPO, 'node_modules/.bin')}:${process.env.PATH}` },
                maxBuffer: 64 * 1024 * 1024
            });
        } catch (e: any) {
            throw new Error(`azle build of ${opts.name} failed:\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
        }
        const built = join(work, '.azle', opts.name, `${opts.name}.wasm`);
        await mkdir(outDir, { recursive: true });
        const tmp = `${wasmPath}.${process.pid}.tmp`;
        await copyFile(built, tmp);
        await rename(tmp, wasmPath);
        const did = join(work, '.azle', opts.name, `${opts.name}.did`);
        if (existsSync(did)) await copyFile(did, join(outDir, `${opts.name}-${hash}.did`));
        return wasmPath;
    } finally {
        await rm(work, { recursive: true, force: true });
    }
}
