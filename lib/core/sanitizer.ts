import { basename } from 'node:path';

/** One frame of a sanitizer stack: `#1 0x7f.. in fn /path/file.c:35` or `#2 0x7f.. (/path/lib.so+0x1139)`. */
const frameLine = /^\s*#\d+ 0x[0-9a-f]+\s+(?:in (.+) )?(\S+)$/;

/**
 * Frames of the sanitizer runtime (malloc, strdup, operator new...) and of the system's
 * libraries (raise, memcpy: built with relative source paths, or without symbols): never
 * where the mistake is.
 */
const runtimeFrame = (fn: string, where: string) =>
  /libsanitizer|compiler-rt|^\.{0,2}\/?(nptl|sysdeps|csu|stdlib|string|libio|signal|misc|posix)\/|^\.\.\/|\/lib(c|m|pthread|stdc\+\+|gcc_s)\.so[.\d]*\+/.test(where) || /^__interceptor_|^operator new|^operator delete/.test(fn);

interface Frame {
  fn: string;
  where: string;
}

/** `fn (file.c:35)`, or `lib.so+0x1139` when the object has no symbols. */
function show(frame: Frame): string {
  const where = frame.where.replace(/^\((.*)\)$/, '$1');
  const place = basename(where);
  return frame.fn ? `${frame.fn} (${place})` : place;
}

/**
 * What ASan, LSan and UBSan printed to `stderr`, summed up where the mistake is: the
 * error, then for each stack its first frames outside the sanitizer's runtime and
 * outside frames matching `ignore` (the host's own code, which called the plugin).
 * Undefined when stderr holds no sanitizer report.
 */
export function sanitizerSummary(stderr: string, ignore?: RegExp): string | undefined {
  const lines = stderr.split('\n');
  const frames = (from: number, limit: number): { shown: string[]; next: number } => {
    const found: Frame[] = [];
    let i = from;
    for (; i < lines.length; i++) {
      const match = frameLine.exec(lines[i]!);
      if (!match) break;
      const frame = { fn: match[1] ?? '', where: match[2]! };
      if (!runtimeFrame(frame.fn, frame.where) && !(ignore && ignore.test(lines[i]!))) found.push(frame);
    }
    return { shown: found.slice(0, limit).map(show), next: i };
  };
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const error = /ERROR: AddressSanitizer: (\S+)/.exec(line);
    if (error) {
      const access = /^(READ|WRITE) of size \d+/.exec(lines[i + 1] ?? '')?.[0];
      // A SEGV has a line or two on the signal before its stack.
      let stack = i + 1;
      while (stack < i + 4 && stack < lines.length && !frameLine.test(lines[stack]!)) stack++;
      const at = frames(stack, 2).shown;
      const parts = [`AddressSanitizer: ${error[1]}${access ? `, ${access}` : ''}${at.length ? ` in ${at.join(' from ')}` : ''}`];
      for (let k = i + 1; k < lines.length && !lines[k]!.startsWith('SUMMARY:'); k++) {
        const section = /^(freed|previously allocated|allocated) by thread \S+ here:/.exec(lines[k]!);
        const first = section && frames(k + 1, 1).shown[0];
        if (first) parts.push(`${section![1]} in ${first}`);
      }
      out.push(parts.join('; '));
      continue;
    }
    const leak = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:/.exec(line);
    if (leak) {
      const at = frames(i + 1, 2).shown;
      const objects = Number(leak[3]);
      if (leak[1] === 'Direct' || !out.some((entry) => entry.startsWith('LeakSanitizer'))) {
        out.push(`LeakSanitizer: ${leak[2]} bytes in ${objects} object${objects === 1 ? '' : 's'} never freed, allocated in ${at.join(' from ') || 'an unknown place'}${leak[1] === 'Indirect' ? ' (reachable only from leaked memory)' : ''}`);
      }
      continue;
    }
    const ub = /^(.+?):(\d+):\d+: runtime error: (.*)$/.exec(line);
    if (ub) {
      const at = frames(i + 1, 2).shown;
      out.push(`UndefinedBehaviorSanitizer: ${ub[3]} ${at.length ? `in ${at.join(' from ')}` : `at ${basename(ub[1]!)}:${ub[2]}`}`);
    }
  }
  if (!out.length) return undefined;
  const shown = out.slice(0, 5);
  if (out.length > shown.length) shown.push(`and ${out.length - shown.length} more (the full report is on the host's stderr: verify --verbose)`);
  return shown.join('\n');
}
