// Output: JSON for scripts (bigints as numbers when safe), aligned text for people.

export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

export const json = (value: unknown): string => JSON.stringify(toJsonValue(value));

/** Columns padded to the widest cell; the last column is not padded. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  if (all.length === 0) return '';
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ').trimEnd())
    .join('\n');
}


export function isoFromNs(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace('.000Z', 'Z');
}

/** "in 3h 20m" / "5m ago" relative to now. */
export function relative(ns: bigint, nowMs = Date.now()): string {
  const diff = Number(ns / 1_000_000n) - nowMs;
  const abs = Math.abs(diff);
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];
  const parts: string[] = [];
  let rest = abs;
  for (const [ms, u] of units) {
    if (rest >= ms && parts.length < 2) {
      parts.push(`${Math.floor(rest / ms)}${u}`);
      rest %= ms;
    }
  }
  const text = parts.join(' ') || '0s';
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

export const percent = (bps: number): string => `${(bps / 100).toFixed(bps % 100 === 0 ? 0 : 2)}%`;

export function duration(ns: bigint): string {
  const s = Number(ns / 1_000_000_000n);
  if (s % 86_400 === 0) return `${s / 86_400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
