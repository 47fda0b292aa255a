import { formatStep, type Progress } from './report.js';

export interface ProgressOptions {
  /** A terminal: a live spinner with elapsed time on one rewritten line. */
  tty: boolean;
  /** Colours for the result marks (off with NO_COLOR, and always off without a TTY). */
  color: boolean;
  write: (text: string) => void;
}

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const paint = { passed: '\x1b[32m', warned: '\x1b[33m', failed: '\x1b[31m', skipped: '\x1b[33m' } as const;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Progress as lines. On a TTY the running step is one line redrawn with a spinner and
 * its elapsed time, replaced by the result when it ends; elsewhere (CI, a pipe) each
 * start, note and result is a plain line with no control characters.
 */
export function lineProgress(options: ProgressOptions): Progress {
  let current: { name: string; started: number; note?: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  const draw = () => {
    if (!current) return;
    const note = current.note ? `: ${current.note}` : '';
    options.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${current.name} (${seconds(performance.now() - current.started)})${note}`);
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (options.tty && current) options.write('\r\x1b[2K');
    current = undefined;
  };
  return {
    begin(name) {
      stop();
      current = { name, started: performance.now() };
      if (!options.tty) return options.write(`.... ${name}\n`);
      draw();
      timer = setInterval(draw, 100);
      timer.unref();
    },
    note(text) {
      if (!current) return;
      current.note = text;
      if (options.tty) draw();
      else options.write(`       ${text}\n`);
    },
    end(step) {
      stop();
      const line = formatStep(step);
      options.write(`${options.color ? line.replace(/^\S+/, (mark) => `${paint[step.status]}${mark}\x1b[0m`) : line}\n`);
    },
  };
}

/**
 * The CLI's choice: a spinner on a terminal, unless tools' output streams there too
 * (`--verbose`); colour on a terminal unless NO_COLOR is set.
 */
export function terminalProgress(verbose: boolean, stream: NodeJS.WriteStream = process.stdout): Progress {
  const tty = Boolean(stream.isTTY);
  return lineProgress({ tty: tty && !verbose, color: tty && !process.env.NO_COLOR, write: (text) => stream.write(text) });
}
