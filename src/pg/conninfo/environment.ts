/** The I/O edge of dsn.ts: the real process's environment, user, home directory and files. */
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import type { DsnEnvironment } from './dsn.ts';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (containers): libpq fails here too; USER is the best guess.
    return process.env.USER ?? process.env.LOGNAME ?? 'postgres';
  }
}

/** A DsnEnvironment reading `process.env`, the OS user, `$HOME` and the file system. */
export function dsnSystemEnvironment(warn: (message: string) => void): DsnEnvironment {
  return {
    env: process.env,
    osUser: osUser(),
    homeDir: process.env.HOME ?? homedir(),
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    stat(path) {
      try {
        const s = statSync(path);
        return { mode: s.mode & 0o777, isFile: s.isFile() };
      } catch {
        return undefined;
      }
    },
    warn,
  };
}
