import { describe, expect, test } from 'bun:test';
import { TableRouter } from '../../../../src/sinks/table-routing.ts';
import {
  SubjectRouter, expandSubject, invalidStaticSubjectReason, invalidSubjectTemplateReason, streamSubjects,
} from '../../../../src/sinks/nats/subjects.ts';

describe('TableRouter', () => {
  test('schema.table wins over the bare table name, which wins over the fallback', () => {
    const router = new TableRouter({ 'billing.invoices': 'a', invoices: 'b' }, 'rest');
    expect(router.targetFor('billing', 'invoices')).toBe('a');
    expect(router.targetFor('public', 'invoices')).toBe('b');
    expect(router.targetFor('public', 'orders')).toBe('rest');
    expect(router.targetFor('public', 'invoices')).toBe('b'); // cached answers stay right
  });

  test('case-sensitive; no fallback (or "") means no destination', () => {
    expect(new TableRouter({ Users: 'u' }).targetFor('public', 'users')).toBeUndefined();
    expect(new TableRouter({ a: 'a' }, '').targetFor('public', 'b')).toBeUndefined();
  });

  test('the fallback is expanded per table; mapped destinations are not', () => {
    const router = new TableRouter({ t: 'fixed.{table}' }, 'fb.{table}', (f, s, t) => f.replace('{table}', `${s}-${t}`));
    expect(router.targetFor('s', 'x')).toBe('fb.s-x');
    expect(router.targetFor('s', 'y')).toBe('fb.s-y');
    expect(router.targetFor('s', 't')).toBe('fixed.{table}');
    expect(router.configuredTargets()).toEqual(['fixed.{table}', 'fb.{table}']);
  });
});

describe('NATS subjects', () => {
  test('valid and invalid subjects', () => {
    expect(invalidStaticSubjectReason('cdc.users')).toBeUndefined();
    expect(invalidStaticSubjectReason('cdc')).toBeUndefined();
    expect(invalidStaticSubjectReason('')).toContain('empty');
    expect(invalidStaticSubjectReason('cdc..users')).toContain('empty token');
    expect(invalidStaticSubjectReason('.cdc')).toContain('empty token');
    expect(invalidStaticSubjectReason('cdc.')).toContain('empty token');
    expect(invalidStaticSubjectReason('cdc.*')).toContain('wildcard');
    expect(invalidStaticSubjectReason('cdc.>')).toContain('wildcard');
    expect(invalidStaticSubjectReason('cdc.my table')).toContain('white space');
  });

  test('templates: {schema} and {table} only', () => {
    expect(invalidSubjectTemplateReason('cdc.{schema}.{table}')).toBeUndefined();
    expect(invalidSubjectTemplateReason('cdc.{db}.{table}')).toBe('unknown placeholder {db}: expected {schema} or {table}');
    expect(invalidSubjectTemplateReason('cdc..{table}')).toContain('empty token');
    expect(expandSubject('cdc.{schema}.{table}', 'billing', 'invoices')).toBe('cdc.billing.invoices');
    expect(expandSubject('cdc.{schema}.{table}', '', 'invoices')).toBe('cdc.public.invoices');
    expect(expandSubject('cdc.t_{table}', 'x', 'y')).toBe('cdc.t_y');
  });

  test('subjects of a created stream: mapped ones, the fallback with placeholder tokens as *', () => {
    expect(streamSubjects({ a: 'cdc.a', b: 'cdc.a' }, 'cdc.all.{schema}.t_{table}')).toEqual(['cdc.a', 'cdc.all.*.*']);
    expect(streamSubjects({ a: 'x' }, '')).toEqual(['x']);
  });

  test('SubjectRouter: a subject, none, or why the table makes it invalid', () => {
    const router = new SubjectRouter({ orders: 'cdc.orders' }, 'cdc.{schema}.{table}');
    expect(router.routeOf('public', 'orders')).toEqual({ subject: 'cdc.orders' });
    expect(router.routeOf('app', 'users')).toEqual({ subject: 'cdc.app.users' });
    expect(router.routeOf('app', 'my table')).toEqual({ invalid: '"cdc.app.my table" contains white space, which NATS subjects cannot' });
    expect(router.routeOf('app', 'a.b')).toEqual({ subject: 'cdc.app.a.b' });
    expect(new SubjectRouter({ orders: 'cdc.orders' }, '').routeOf('public', 'users')).toBeUndefined();
  });
});

describe('check --live: a stream subject covers a fallback pattern', () => {
  test('token by token, with * and >', async () => {
    const { subjectCovers } = await import('../../../../src/commands/check/nats.ts');
    expect(subjectCovers('cdc.>', 'cdc.*.*')).toBe(true);
    expect(subjectCovers('cdc.*.*', 'cdc.*.*')).toBe(true);
    expect(subjectCovers('cdc.public.*', 'cdc.*.*')).toBe(false);
    expect(subjectCovers('>', 'a')).toBe(true);
    expect(subjectCovers('cdc.*', 'cdc.*.*')).toBe(false);
    expect(subjectCovers('cdc.*.*.>', 'cdc.*.*')).toBe(false);
    expect(subjectCovers('cdc.x', 'cdc.x')).toBe(true);
  });
});
