import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ejs from 'ejs';

export interface ProjectFile {
  /** Relative POSIX path inside the project. */
  path: string;
  contents: string;
}

/** The package root (templates/, hosts/), found from here whether run from lib/ or dist/lib/. */
export const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error('generator-vsmtp-plugin: package.json not found above ' + import.meta.url);
    dir = dirname(dir);
  }
  return dir;
})();
export const templatesRoot = join(packageRoot, 'templates');
/** This generator's version: recorded with every render, so `update` knows what it merges from. */
export const generatorVersion = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version as string;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Output path of a template: `.ejs` dropped, a leading `_` on a segment becomes a dot
 * (npm would drop or act on real dotfiles), and `__key__` takes the value of `paths.key`.
 */
export function outputPath(templatePath: string, paths: Record<string, string>): string {
  return templatePath
    .replace(/\.ejs$/, '')
    .split('/')
    .map((segment) => segment.replace(/^_(?!_)/, '.'))
    .map((segment) =>
      segment.replace(/__([a-zA-Z]+)__/g, (_, key: string) => {
        if (!(key in paths)) throw new Error(`template path ${templatePath}: no value for __${key}__`);
        return paths[key]!;
      }),
    )
    .join('/');
}

export interface TemplateContext {
  /** Values for `__key__` placeholders in template paths. */
  paths: Record<string, string>;
  [key: string]: unknown;
}

/** Where a reader of a generated README gets the `vsmtp-plugin` command it mentions. */
const toolNote =
  '`vsmtp-plugin` is the command of generator-vsmtp-plugin, which made this project. It is not on npm yet: install it from a clone of its repository (`npm ci && npm install -g .`) or from a tarball made there by `npm pack` (`npm install -g ./generator-vsmtp-plugin-*.tgz`); its README says more. `verify` runs on Linux.';

/** Versions of the actions the generated CI workflows use, bumped together here. */
export const workflowPins = {
  checkout: 'actions/checkout@v4',
  rustToolchain: 'dtolnay/rust-toolchain@stable',
  setupPython: 'actions/setup-python@v5',
  setupNode: 'actions/setup-node@v4',
  uploadArtifact: 'actions/upload-artifact@v4',
};

/** This generator as a generated CI workflow installs it: pinned to the version that rendered the project. */
export const generatorPackage = {
  name: 'generator-vsmtp-plugin',
  version: generatorVersion,
  spec: `generator-vsmtp-plugin@${generatorVersion}`,
  /** Not published yet: workflows run their verify job only where a package source is configured. */
  onNpm: false,
};

/** Renders templates/_partials/<name>.ejs with the calling template's context plus `data`. */
function partial(context: object) {
  return (name: string, data: object = {}) => {
    const file = join(templatesRoot, '_partials', `${name}.ejs`);
    return ejs.render(readFileSync(file, 'utf8'), { ...context, ...data }, { filename: file, async: false });
  };
}

/** Renders the templates of a folder (those `include` takes) in memory; nothing touches the disk. */
export async function renderFolder(folder: string, kindContext: TemplateContext, include: (templatePath: string) => boolean = () => true): Promise<ProjectFile[]> {
  const shared = { toolNote, workflowPins, generator: generatorPackage, ...kindContext };
  const context = { ...shared, partial: partial(shared) };
  const root = join(templatesRoot, folder);
  const files: ProjectFile[] = [];
  for (const file of await listFiles(root)) {
    const templatePath = relative(root, file).split(sep).join(posix.sep);
    if (!include(templatePath)) continue;
    const source = readFileSync(file, 'utf8');
    let contents: string;
    try {
      // A file without tags is its own output: compiling it would only cost `new` time.
      contents = source.includes('<%') ? ejs.render(source, context, { filename: file, async: false }) : source;
    } catch (error) {
      throw new Error(`template ${folder}/${templatePath} failed to render: ${(error as Error).message}`);
    }
    files.push({ path: outputPath(templatePath, context.paths), contents });
  }
  return files;
}
