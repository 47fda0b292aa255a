import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kind } from './kind.js';
import type { Answers } from './question.js';
import { licenseFiles } from './licenses.js';
import { renderFolder, type ProjectFile } from './render.js';

/** Key under which answers are recorded in `.yo-rc.json` (Yeoman's own convention). */
export const recordKey = 'generator-vsmtp-plugin';

export interface ProjectRecord {
  kind: string;
  answers: Answers;
}

export function projectRecord(kind: Kind, answers: Answers): ProjectRecord {
  return { kind: kind.id, answers };
}

/** The recorded kind and answers of a generated project, if it has them. */
export function readProjectRecord(directory: string): ProjectRecord | undefined {
  const file = join(directory, '.yo-rc.json');
  if (!existsSync(file)) return undefined;
  const record = JSON.parse(readFileSync(file, 'utf8'))[recordKey];
  return record?.kind ? record : undefined;
}

/** Renders a whole project in memory: the files every kind has, its templates, then the license text. */
export async function renderProject(kind: Kind, answers: Answers): Promise<ProjectFile[]> {
  // `spdx` heads every source file: the license answer is an SPDX expression already.
  const context = { ...kind.context(answers), spdx: String(answers.license), kind: kind.id };
  const files: ProjectFile[] = [];
  for (const folder of ['_common', ...(kind.templateFolders?.(answers) ?? [kind.id])]) files.push(...(await renderFolder(folder, context)));
  files.push(...(kind.extraFiles?.(answers) ?? []));
  files.push(...(await licenseFiles(String(answers.license), String(answers.author))));
  // Case-insensitive, as people list files; not localeCompare, whose first call costs
  // `new` ~10 ms of ICU start-up.
  const order = (file: ProjectFile) => file.path.toLowerCase();
  return files.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** `.yo-rc.json` as Yeoman writes it, for front ends that do not go through Yeoman. */
export function recordFile(kind: Kind, answers: Answers): ProjectFile {
  return { path: '.yo-rc.json', contents: `${JSON.stringify({ [recordKey]: projectRecord(kind, answers) }, null, 2)}\n` };
}
