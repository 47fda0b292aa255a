import type { Kind } from './kind.js';
import type { Answers } from './question.js';
import type { ProjectFile } from './render.js';
import { baseFile, onDisk, pristine, readBase } from './update.js';

/** What writing a new render over an existing project does to each file. */
export interface Overwrite {
  /** Files to write: new ones, and ones still as the generator wrote them. */
  write: ProjectFile[];
  /** Files of the earlier render the new one drops (another variant's), unedited: removed. */
  remove: string[];
  /** Files the author changed (or that the generator never wrote): left as they are. */
  kept: string[];
}

/**
 * Plans `--force` over a directory: a file is replaced or removed only when its content
 * is still what the generator wrote for the recorded answers (`previous`: the kept render);
 * everything else is the author's and stays.
 */
export async function planOverwrite(directory: string, files: ProjectFile[], previous?: { kind: Kind; answers: Answers }): Promise<Overwrite> {
  const base = new Map(Object.entries(previous ? (await pristine(directory, previous.kind, previous.answers)).files : (readBase(directory)?.files ?? {})));
  const plan: Overwrite = { write: [], remove: [], kept: [] };
  for (const file of files) {
    const current = onDisk(directory, file.path);
    if (current === undefined || current === file.contents || current === base.get(file.path) || file.path === '.yo-rc.json' || file.path === baseFile) plan.write.push(file);
    else plan.kept.push(file.path);
  }
  const paths = new Set(files.map((file) => file.path));
  for (const [path, contents] of base) {
    if (paths.has(path)) continue;
    const current = onDisk(directory, path);
    if (current === contents) plan.remove.push(path);
    else if (current !== undefined) plan.kept.push(path);
  }
  return plan;
}
