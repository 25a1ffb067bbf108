// Exponential backoff with full jitter, shared by the poller and per-connection replays.
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(minMs / 2 + random() * (ceiling - minMs / 2));
}

/** A sleep that `wake()` can cut short (used to stop loops promptly). */
export class Sleeper {
  private timer: NodeJS.Timeout | null = null;
  private resolve: (() => void) | null = null;
  sleep(ms: number): Promise<void> {
    return new Promise((res) => {
      this.resolve = res;
      this.timer = setTimeout(() => this.wake(), ms);
    });
  }
  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }
}
