import { closest, distance } from 'fastest-levenshtein';

/** "; did you mean X?" for a mistyped word, when a candidate is close enough to be the intent. */
export function suggestion(word: string, candidates: string[]): string {
  if (!candidates.length) return '';
  const best = closest(word, candidates);
  return distance(word, best) <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean ${best}?` : '';
}
