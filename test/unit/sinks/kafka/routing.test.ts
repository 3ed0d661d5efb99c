import { describe, expect, test } from 'bun:test';
import { TopicRouter, invalidTopicReason } from '../../../../src/sinks/kafka/routing.ts';

describe('TopicRouter', () => {
  test('schema.table wins over the bare table name, which wins over the fallback', () => {
    const router = new TopicRouter({ 'billing.invoices': 'billing-invoices', invoices: 'invoices', users: 'users' }, 'rest');
    expect(router.topicFor('billing', 'invoices')).toBe('billing-invoices');
    expect(router.topicFor('public', 'invoices')).toBe('invoices');
    expect(router.topicFor('public', 'users')).toBe('users');
    expect(router.topicFor('public', 'orders')).toBe('rest');
  });

  test('matches exactly and case-sensitively', () => {
    const router = new TopicRouter({ Users: 'u', 'Public.orders': 'o' });
    expect(router.topicFor('public', 'users')).toBeUndefined();
    expect(router.topicFor('public', 'Users')).toBe('u');
    expect(router.topicFor('public', 'orders')).toBeUndefined();
    expect(router.topicFor('Public', 'orders')).toBe('o');
    expect(router.topicFor('public', 'user')).toBeUndefined();
  });

  test('no mapping and no fallback: no topic; an empty fallback counts as none', () => {
    expect(new TopicRouter({ a: 'a' }).topicFor('public', 'b')).toBeUndefined();
    expect(new TopicRouter({ a: 'a' }, '').topicFor('public', 'b')).toBeUndefined();
  });

  test('events without a schema (relayed from the original) match bare names only', () => {
    const router = new TopicRouter({ 'public.users': 'qualified', users: 'bare' }, 'fb');
    expect(router.topicFor('', 'users')).toBe('bare');
    expect(router.topicFor('', 'public.users')).toBe('qualified'); // a table literally named "public.users"
  });

  test('answers are cached per table and stay the same', () => {
    const router = new TopicRouter({ users: 'users' }, 'fb');
    for (let i = 0; i < 3; i++) {
      expect(router.topicFor('public', 'users')).toBe('users');
      expect(router.topicFor('public', 'x')).toBe('fb');
    }
    // schema "a.b" + table "c" and schema "a" + table "b.c" are different tables
    const dotted = new TopicRouter({ 'a.b.c': 't' });
    expect(dotted.topicFor('a.b', 'c')).toBe('t');
    expect(dotted.topicFor('a', 'b.c')).toBe('t');
    expect(dotted.topicFor('a', 'c')).toBeUndefined();
  });

  test('configuredTopics lists mapped and fallback topics once', () => {
    expect(new TopicRouter({ a: 't1', b: 't1', c: 't2' }, 'fb').configuredTopics().sort()).toEqual(['fb', 't1', 't2']);
    expect(new TopicRouter({ a: 't1' }).configuredTopics()).toEqual(['t1']);
  });
});

describe('invalidTopicReason', () => {
  test('legal names', () => {
    for (const name of ['a', 'users', 'db1.public.users', 'A-b_c.9', 'x'.repeat(249)]) expect(invalidTopicReason(name)).toBeUndefined();
  });
  test('illegal names say why', () => {
    expect(invalidTopicReason('.')).toContain('not a legal topic name');
    expect(invalidTopicReason('..')).toContain('not a legal topic name');
    expect(invalidTopicReason('has space')).toContain('use only letters, digits');
    expect(invalidTopicReason('ünïcode')).toContain('use only letters, digits');
    expect(invalidTopicReason('')).toContain('not a legal topic name');
    expect(invalidTopicReason('x'.repeat(250))).toContain('at most 249 characters, found 250');
  });
});
