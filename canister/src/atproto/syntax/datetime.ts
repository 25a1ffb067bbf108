import { ensurer, type Ensure } from './error.ts';

// RFC 3339 profile that is also ISO 8601: uppercase T and Z, seconds required, optional fraction,
// timezone required ("Z" or ±hh:mm, but not the RFC 3339 "unknown offset" -00:00).
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,20})?(Z|([+-])(\d{2}):(\d{2}))$/;

export function datetimeProblem(value: string): string | null {
  if (value.length > 64) return 'datetime is longer than 64 characters';
  const m = DATETIME_RE.exec(value);
  if (!m) return `invalid datetime: ${JSON.stringify(value)}`;
  if (m[8] === '-00:00') return 'datetime offset -00:00 is not allowed';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetMinutes = m[9] ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) : 0;
  if (month < 1 || month > 12) return 'datetime month out of range';
  if (day < 1 || day > daysInMonth(year, month)) return 'datetime day out of range';
  if (hour > 23 || minute > 59 || second > 59) return 'datetime time of day out of range';
  if (Math.abs(offsetMinutes) >= 24 * 60 || Number(m[11] ?? 0) > 59) return 'datetime offset out of range';
  // Only 0000-01-01 with a positive offset can normalize to before year 0000.
  if (year === 0 && month === 1 && day === 1 && hour * 60 + minute < offsetMinutes) {
    return 'datetime is before year 0000 once normalized to UTC';
  }
  return null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Syntactically valid per the atproto datetime format and a real, non-negative point in time. */
export const isValidDatetime = (value: string): boolean => datetimeProblem(value) === null;
export const ensureValidDatetime: Ensure = ensurer(datetimeProblem);
