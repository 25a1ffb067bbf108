// Lexicon string limits (UTF-8 bytes and graphemes), measured with the lexicon's shared helpers (atproto/lexicon/text.ts).
import { countGraphemes, utf8Length } from '../atproto/lexicon/text.ts';

export { countGraphemes, utf8Length };

/** Enforces a lexicon string limit; returns the problem or null. */
export function stringLimitProblem(
  what: string,
  value: string,
  limits: { maxBytes?: number; maxGraphemes?: number },
): string | null {
  if (limits.maxBytes !== undefined) {
    const bytes = utf8Length(value);
    if (bytes > limits.maxBytes) return `${what} is ${bytes} bytes of UTF-8; the limit is ${limits.maxBytes}`;
  }
  if (limits.maxGraphemes !== undefined) {
    const g = countGraphemes(value);
    if (g > limits.maxGraphemes) return `${what} is ${g} graphemes; the limit is ${limits.maxGraphemes}`;
  }
  return null;
}
