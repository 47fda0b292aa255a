import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where built reference hosts and shared build output live, outside any project. */
export function cacheDir(): string {
  if (process.env.VSMTP_PLUGIN_CACHE) return process.env.VSMTP_PLUGIN_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'vsmtp-plugin');
}
