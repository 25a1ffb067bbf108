// Stable memory as sparse 64 KiB pages with a per-message copy-on-write journal:
// a trap restores only the pages the message touched (Azle keeps ~72 MiB of stable memory,
// far too much to copy per message). Committed pages are tracked as dirty for persistence.
export const PAGE = 65536;
export const MAX_STABLE_PAGES = 500 * 1024 * 1024 * 1024 / PAGE; // 500 GiB, the IC's stable memory limit

export class StableMemory {
    private pages = new Map<number, Uint8Array>();
    private sizePages = 0;
    private journal: Map<number, Uint8Array | undefined> | null = null;
    private journalSize = 0;
    /** pages changed by committed messages and not yet persisted */
    readonly dirty = new Set<number>();

    get size(): number {
        return this.sizePages;
    }

    begin(): void {
        this.journal = new Map();
        this.journalSize = this.sizePages;
    }

    commit(): void {
        if (this.journal) for (const p of this.journal.keys()) this.dirty.add(p);
        this.journal = null;
    }

    rollback(): void {
        if (!this.journal) return;
        for (const [p, orig] of this.journal) {
            if (orig === undefined) this.pages.delete(p);
            else this.pages.set(p, orig);
        }
        this.sizePages = this.journalSize;
        this.journal = null;
    }

    /** returns the old size, or -1 if the new size is beyond the limit */
    grow(delta: number, limitPages = MAX_STABLE_PAGES): number {
        const old = this.sizePages;
        if (old + delta > limitPages) return -1;
        this.sizePages = old + delta;
        return old;
    }

    private writablePage(p: number): Uint8Array {
        const existing = this.pages.get(p);
        if (this.journal && !this.journal.has(p)) {
            this.journal.set(p, existing);
            const copy = existing ? existing.slice() : new Uint8Array(PAGE);
            this.pages.set(p, copy);
            return copy;
        }
        if (existing) return existing;
        const fresh = new Uint8Array(PAGE);
        this.pages.set(p, fresh);
        if (!this.journal) this.dirty.add(p);
        return fresh;
    }

    inBounds(offset: number, length: number): boolean {
        return offset >= 0 && length >= 0 && offset + length <= this.sizePages * PAGE;
    }

    read(offset: number, dst: Uint8Array): void {
        let done = 0;
        while (done < dst.length) {
            const pos = offset + done;
            const p = Math.floor(pos / PAGE);
            const within = pos - p * PAGE;
            const n = Math.min(PAGE - within, dst.length - done);
            const page = this.pages.get(p);
            if (page) dst.set(page.subarray(within, within + n), done);
            else dst.fill(0, done, done + n);
            done += n;
        }
    }

    write(offset: number, src: Uint8Array): void {
        let done = 0;
        while (done < src.length) {
            const pos = offset + done;
            const p = Math.floor(pos / PAGE);
            const within = pos - p * PAGE;
            const n = Math.min(PAGE - within, src.length - done);
            this.writablePage(p).set(src.subarray(done, done + n), within);
            done += n;
        }
    }

    /** page contents for persistence (undefined = all zero) */
    page(p: number): Uint8Array | undefined {
        return this.pages.get(p);
    }

    setPage(p: number, bytes: Uint8Array): void {
        this.pages.set(p, bytes);
    }

    setSize(pages: number): void {
        this.sizePages = pages;
    }

    /** an independent copy of the committed pages (a snapshot; loading one copies it back) */
    clone(): StableMemory {
        const copy = new StableMemory();
        copy.sizePages = this.sizePages;
        for (const [p, bytes] of this.pages) copy.pages.set(p, bytes.slice());
        return copy;
    }

    /** indices of the pages that hold data (others read as zero) */
    pageIndices(): number[] {
        return [...this.pages.keys()];
    }

    clear(): void {
        this.pages.clear();
        this.sizePages = 0;
        this.dirty.clear();
        this.journal = null;
    }
}
