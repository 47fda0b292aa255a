import type { Kind } from '../core/kind.js';
import { UsageError } from '../core/errors.js';
import { suggestion } from '../core/suggest.js';
import { lgc } from './lgc/index.js';
import { mailerq } from './mailerq/index.js';
import { vpl } from './vpl/index.js';
import { vsmtp } from './vsmtp/index.js';

/** Every plugin kind, in the order front ends offer them. */
export const kinds: Kind[] = [vsmtp, mailerq, lgc, vpl];

export function kindById(id: string): Kind {
  const kind = kinds.find((candidate) => candidate.id === id);
  if (!kind) throw new UsageError(`unknown kind ${JSON.stringify(id)}${suggestion(id, kinds.map((k) => k.id))} (kinds: ${kinds.map((k) => k.id).join(', ')})`);
  return kind;
}
