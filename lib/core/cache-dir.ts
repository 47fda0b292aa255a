import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where built reference hosts, shared build output and the bin's compiled code live,
 * outside any project. A module of its own: the bin's loader needs it before anything else.
 */
export function cacheDir(): string {
  if (process.env.VSMTP_PLUGIN_CACHE) return process.env.VSMTP_PLUGIN_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vsmtp-plugin');
}
