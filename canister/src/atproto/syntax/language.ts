import { ensurer, type Ensure } from './error.ts';

// BCP 47 (RFC 5646) language tag. atproto requires the primary language subtag in lowercase.
const GRANDFATHERED = new Set(
  ('en-GB-oed i-ami i-bnn i-default i-enochian i-hak i-klingon i-lux i-mingo i-navajo i-pwn i-tao i-tay i-tsu ' +
    'sgn-BE-FR sgn-BE-NL sgn-CH-DE art-lojban cel-gaulish no-bok no-nyn zh-guoyu zh-hakka zh-min zh-min-nan zh-xiang')
    .toLowerCase()
    .split(' '),
);
const LANGTAG_RE = new RegExp(
  '^([a-z]{2,3}(-[a-zA-Z]{3}){0,3})' + // language + extlang
    '(-[a-zA-Z]{4})?' + // script
    '(-([a-zA-Z]{2}|\\d{3}))?' + // region
    '((-([a-zA-Z0-9]{5,8}|\\d[a-zA-Z0-9]{3}))*)' + // variants
    '((-[0-9a-wyzA-WYZ](-[a-zA-Z0-9]{2,8})+)*)' + // extensions
    '(-[xX](-[a-zA-Z0-9]{1,8})+)?$', // private use
);
const PRIVATE_USE_RE = /^[xX](-[a-zA-Z0-9]{1,8})+$/;

export function languageProblem(tag: string): string | null {
  if (tag.length > 128) return 'language tag is too long';
  if (GRANDFATHERED.has(tag.toLowerCase()) || PRIVATE_USE_RE.test(tag)) return null;
  const m = LANGTAG_RE.exec(tag);
  if (!m) return `invalid language tag: ${JSON.stringify(tag)}`;
  // RFC 5646 §2.2.5/§2.2.6: a variant or extension singleton may not repeat (case-insensitively).
  const variants = m[6]!.toLowerCase().split('-').slice(1);
  if (new Set(variants).size !== variants.length) return 'language tag repeats a variant subtag';
  const singletons = m[9]!.toLowerCase().split('-').filter((s) => s.length === 1);
  if (new Set(singletons).size !== singletons.length) return 'language tag repeats an extension singleton';
  return null;
}

export const isValidLanguage = (tag: string): boolean => languageProblem(tag) === null;
export const ensureValidLanguage: Ensure = ensurer(languageProblem);
