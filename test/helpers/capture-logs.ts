/**
 * Captures log lines for the current test file (registers beforeAll/afterAll/beforeEach hooks).
 * They still go where they went before too (quiet.ts: printed if the test fails).
 */
import { afterAll, beforeAll, beforeEach } from 'bun:test';
import { configureLogging, logSettings, type LogSettings } from '../../src/core/logger.ts';

export function captureLogs(): string[] {
  const lines: string[] = [];
  let savedWrite: LogSettings['write'];
  beforeAll(() => {
    savedWrite = logSettings().write;
    configureLogging({
      write: (line) => {
        lines.push(line);
        savedWrite(line);
      },
    });
  });
  afterAll(() => configureLogging({ write: savedWrite }));
  beforeEach(() => {
    lines.length = 0;
  });
  return lines;
}
