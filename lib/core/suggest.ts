import { closest, distance } from 'fastest-levenshtein';

/** "; did you mean X?" for a mistyped word, when a candidate is close enough to be the intent. */
export function suggestion(word: string, candidates: string[]): string {
  if (!candidates.length) return '';
  const best = closest(word, candidates);
  return distance(word, best) <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean ${best}?` : '';
}

/** The refusal of an option no command or kind declares, the same in both front ends. */
export function unknownOption(option: string, known: string[]): string {
  return `unknown option ${option}${suggestion(option, known)} (\`--help\` lists the options)`;
}
