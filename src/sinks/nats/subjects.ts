/**
 * The NATS sink's subjects (docs/nats.md, "Subjects"), pure: `tableSubjectMapping` and
 * `subjectFallback` through the shared table router, the fallback's `{schema}`/`{table}`
 * placeholders, and what makes a subject publishable.
 */
import { TableRouter } from '../table-routing.ts';

/** The keys that decide the subjects. */
export interface SubjectKeys {
  tableSubjectMapping: Readonly<Record<string, string>>;
  subjectFallback: string;
  /** With handlers = ["debezium"]: every table's subject is `<debeziumTopicPrefix>.<schema>.<table>`. */
  debeziumSubjects?: boolean | undefined;
  debeziumTopicPrefix?: string | undefined;
}

/** Debezium's default topic prefix (src/event/debezium/format.ts), when debeziumTopicPrefix is unset. */
const DEBEZIUM_PREFIX_DEFAULT = 'psql-streamer';

/**
 * The mapping and fallback the sink routes with: the configured ones, or with debeziumSubjects
 * none and the fallback `<prefix>.{schema}.{table}` (Debezium's topic names, as subjects).
 */
export function subjectRouting(o: SubjectKeys): { mapping: Readonly<Record<string, string>>; fallback: string } {
  if (o.debeziumSubjects === true) return { mapping: {}, fallback: `${o.debeziumTopicPrefix ?? DEBEZIUM_PREFIX_DEFAULT}.{schema}.{table}` };
  return { mapping: o.tableSubjectMapping, fallback: o.subjectFallback };
}

/** The subjects a stream must capture for the sink's events (see streamSubjects). */
export function configuredStreamSubjects(o: SubjectKeys): string[] {
  const { mapping, fallback } = subjectRouting(o);
  return streamSubjects(mapping, fallback);
}

const PLACEHOLDER = /\{(schema|table)\}/g;

/**
 * Why NATS would refuse to deliver to `subject`, or undefined when it is fine: dot-separated,
 * non-empty tokens without white space, and no wildcard (`*`, `>`) since events are published.
 */
export function invalidStaticSubjectReason(subject: string): string | undefined {
  if (subject === '') return 'the subject is empty: expected e.g. "cdc.users"';
  if (/\s/.test(subject)) return `${JSON.stringify(subject)} contains white space, which NATS subjects cannot`;
  if (subject.split('.').some((token) => token === '')) return `${JSON.stringify(subject)} has an empty token (a leading, trailing or doubled ".")`;
  if (subject.split('.').some((token) => token.includes('*') || token.includes('>'))) {
    return `${JSON.stringify(subject)} contains a wildcard ("*" or ">"), which cannot be published to`;
  }
  return undefined;
}

/** Why a fallback subject template is unusable, or undefined: placeholders other than {schema} and {table}, or an invalid subject around them. */
export function invalidSubjectTemplateReason(template: string): string | undefined {
  const unknown = template.replace(PLACEHOLDER, '').match(/\{[^}]*\}/);
  if (unknown !== null) return `unknown placeholder ${unknown[0]}: expected {schema} or {table}`;
  return invalidStaticSubjectReason(template.replace(PLACEHOLDER, 'x'));
}

/** The fallback template filled in for one table; a missing schema (events relayed from the original) reads "public". */
export function expandSubject(template: string, schema: string, table: string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => (name === 'schema' ? schema || 'public' : table));
}

/**
 * The subjects a stream created by the sink captures: each mapped subject, and the fallback with
 * each placeholder token made a `*` wildcard (a token mixing text and a placeholder makes the
 * whole token `*`).
 */
export function streamSubjects(mapping: Readonly<Record<string, string>>, fallback: string): string[] {
  const subjects = new Set(Object.values(mapping));
  if (fallback !== '') {
    subjects.add(fallback.split('.').map((token) => (/\{(schema|table)\}/.test(token) ? '*' : token)).join('.'));
  }
  return [...subjects];
}

/** Where an event goes: a subject, none (dropped), or an unusable subject (the table's name makes it invalid). */
export type Route = { subject: string } | { invalid: string } | undefined;

/** Subject of each table's events, checked once per table. */
export class SubjectRouter {
  private readonly router: TableRouter;
  private readonly checked = new Map<string, string | undefined>();

  constructor(mapping: Readonly<Record<string, string>>, fallback: string) {
    this.router = new TableRouter(mapping, fallback, expandSubject);
  }

  routeOf(schema: string, table: string): Route {
    const subject = this.router.targetFor(schema, table);
    if (subject === undefined) return undefined;
    let reason = this.checked.get(subject);
    if (reason === undefined && !this.checked.has(subject)) {
      reason = invalidStaticSubjectReason(subject);
      this.checked.set(subject, reason);
    }
    return reason === undefined ? { subject } : { invalid: reason };
  }
}
