import type { Answers, Question } from './question.js';
import type { ProjectFile, TemplateContext } from './render.js';
import type { StepLog } from './report.js';
import type { Tool } from './exec.js';

/** What `verify` was pointed at. */
export interface VerifyTarget {
  /** A generated project directory, when verifying a project. */
  project?: string;
  /** A built artifact, when verifying one without its project. */
  artifact?: string;
  /** Answers recorded in the project, when there are any. */
  answers?: Answers;
}

/** Everything one plugin kind contributes; front ends only read this. */
export interface Kind {
  id: string;
  title: string;
  summary: string;
  questions: Question[];
  /** Extra options of `verify` (for instance which host profile to load the plugin in). */
  verifyOptions: Question[];
  /** Tools its build and verify need, for `doctor` and for exit 3 when missing. */
  tools: Tool[];
  /**
   * What the generated project installs itself (e.g. pinned Python packages): `doctor`
   * checks they can be installed; verify reports exit 3 when they cannot.
   */
  installs?: Tool[];
  /** Tools the generated project's own commands use but verify does not (linters): doctor checks them. */
  projectTools?: Tool[];
  /** Template variables for templates/<id>/, from validated answers. */
  context(answers: Answers): TemplateContext;
  /** Folders under templates/ to render, when not just templates/<id>/ (e.g. one per language). */
  templateFolders?(answers: Answers): string[];
  /** Files copied from elsewhere as they are (e.g. the user's own WIT), beside the templates. */
  extraFiles?(answers: Answers): ProjectFile[];
  /** What to run in a new project, in order: printed after `new`, as create-vite does. */
  nextSteps(answers: Answers): string[];
  /** Recognises a project of this kind that has no recorded answers. */
  detect(directory: string): boolean;
  /** Recognises an artifact this kind can verify on its own. */
  accepts(artifact: string): boolean;
  /**
   * Builds (for a project) and loads the result in the reference host, logging each
   * step. Returns what was verified and, when the kind can tell more than its first
   * failed step says, the likely cause; the verdict is read from the logged steps.
   */
  verify(target: VerifyTarget, options: Answers, log: StepLog): Promise<{ artifact: string | null; cause?: string }>;
}
