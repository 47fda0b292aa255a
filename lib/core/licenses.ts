import type { Choice } from './question.js';
import { renderFolder, type ProjectFile } from './render.js';

export const licenseChoices: Choice[] = [
  { value: 'MIT OR Apache-2.0', title: 'MIT OR Apache-2.0 (the Rust convention: LICENSE-MIT and LICENSE-APACHE)' },
  { value: 'MIT', title: 'MIT' },
  { value: 'Apache-2.0', title: 'Apache-2.0' },
  { value: 'BSD-3-Clause', title: 'BSD-3-Clause' },
  { value: 'MPL-2.0', title: 'MPL-2.0' },
  { value: 'GPL-3.0-or-later', title: 'GPL-3.0-or-later' },
];

/** The license text(s) for an SPDX expression from licenseChoices. */
export async function licenseFiles(license: string, author: string, year = new Date().getFullYear()): Promise<ProjectFile[]> {
  const ids = license === 'MIT OR Apache-2.0' ? ['MIT', 'Apache-2.0'] : [license];
  const texts = await renderFolder('_licenses', { paths: {}, author, year }, (path) => ids.includes(path.replace(/\.ejs$/, '')));
  const text = (id: string) => texts.find((file) => file.path === id)!.contents;
  if (license === 'MIT OR Apache-2.0') {
    return [
      { path: 'LICENSE-MIT', contents: text('MIT') },
      { path: 'LICENSE-APACHE', contents: text('Apache-2.0') },
    ];
  }
  return [{ path: 'LICENSE', contents: text(license) }];
}
