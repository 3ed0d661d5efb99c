/** check --live for a file sink: an appendable path in a usable directory (temp files, no server). */
import { afterAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFilePath } from '../../../../src/commands/check/file.ts';

const dir = mkdtempSync(join(tmpdir(), 'check-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('standard output, a new file, an existing file: OK', () => {
  expect(checkFilePath('-')).toEqual({ check: 'path', verdict: 'OK', reason: 'standard output' });
  expect(checkFilePath(join(dir, 'new.jsonl')).reason).toBe(`${join(dir, 'new.jsonl')} will be created (directory writable)`);
  writeFileSync(join(dir, 'old.jsonl'), '');
  expect(checkFilePath(join(dir, 'old.jsonl')).reason).toBe(`${join(dir, 'old.jsonl')} exists and is writable`);
});

test('a missing directory, a directory as the file, a file as the directory: FAIL with a remedy', () => {
  const missing = checkFilePath(join(dir, 'nope', 'out.jsonl'));
  expect(missing.verdict).toBe('FAIL');
  expect(missing.reason).toContain('(ENOENT)');
  expect(missing.remedy).toStartWith(`mkdir -p ${join(dir, 'nope')}`);
  mkdirSync(join(dir, 'sub'));
  expect(checkFilePath(join(dir, 'sub'))).toMatchObject({ verdict: 'FAIL', reason: `${join(dir, 'sub')} is a directory` });
  writeFileSync(join(dir, 'plain'), '');
  expect(checkFilePath(join(dir, 'plain', 'out.jsonl'))).toMatchObject({ verdict: 'FAIL', reason: `${join(dir, 'plain')} is not a directory` });
});
