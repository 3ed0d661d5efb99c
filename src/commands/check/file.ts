/**
 * `check --live` for a file sink: the file can be appended to, i.e. its directory exists and is
 * writable and the file, when it exists, is a writable regular file (docs/operations.md,
 * "Readiness: check --live"). Nothing is created or written.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail, ok, type CheckResult } from './result.ts';

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

export function checkFilePath(path: string): CheckResult {
  if (path === '-') return ok('path', 'standard output');
  const full = resolve(path);
  const dir = dirname(full);
  try {
    if (!statSync(dir).isDirectory()) return fail('path', `${dir} is not a directory`, 'point path at a file in an existing directory');
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return fail('path', `directory ${dir} is not usable (${errno(err)})`, `mkdir -p ${dir} and make it writable for the streamer's user, or change path`);
  }
  let exists = true;
  try {
    const stat = statSync(full);
    if (stat.isDirectory()) return fail('path', `${full} is a directory`, 'point path at a file');
    accessSync(full, constants.W_OK);
  } catch (err) {
    if (errno(err) !== 'ENOENT') return fail('path', `${full} cannot be appended to (${errno(err)})`, `make ${full} writable for the streamer's user`);
    exists = false;
  }
  return ok('path', exists ? `${full} exists and is writable` : `${full} will be created (directory writable)`);
}
