import { describe, expect, test } from 'bun:test';
import { interpolate } from '../../../src/config/env.ts';

const env = { PGPASSWORD: 's3cret', HOST: 'db1', EMPTY: '' };

describe('interpolate', () => {
  test('replaces every ${NAME}', () => {
    expect(interpolate('host=${HOST} password=${PGPASSWORD}', env)).toEqual({ ok: true, value: 'host=db1 password=s3cret' });
  });

  test('leaves strings without references alone, including a lone $', () => {
    expect(interpolate('cost $5 and $HOST', env)).toEqual({ ok: true, value: 'cost $5 and $HOST' });
  });

  test('$${ writes a literal ${', () => {
    expect(interpolate('a $${HOST} b', env)).toEqual({ ok: true, value: 'a ${HOST} b' });
  });

  test('${NAME:-fallback} uses the fallback when unset or empty', () => {
    expect(interpolate('${MISSING:-localhost}:${EMPTY:-9092}:${HOST:-x}', env)).toEqual({ ok: true, value: 'localhost:9092:db1' });
  });

  test('an empty variable is a value, not missing', () => {
    expect(interpolate('[${EMPTY}]', env)).toEqual({ ok: true, value: '[]' });
  });

  test('a missing variable is an error naming it', () => {
    expect(interpolate('password=${KAFKA_PASSWORD}', env)).toEqual({
      ok: false,
      reason: 'environment variable $KAFKA_PASSWORD is not set (referenced as ${...}; use ${NAME:-default} for a fallback)',
    });
  });

  test('several missing variables are named together', () => {
    const r = interpolate('${A}${B}', {});
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toStartWith('environment variables $A, $B are not set');
  });

  test('malformed references are errors', () => {
    expect(interpolate('${HOST', env)).toEqual({ ok: false, reason: 'unterminated "${" in "${HOST" (write "$${" for a literal "${")' });
    expect(interpolate('${1BAD}', env).ok).toBe(false);
    expect(interpolate('${}', env).ok).toBe(false);
  });
});
