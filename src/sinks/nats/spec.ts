/**
 * `[sink.NAME]` with `type = "nats"`: its keys, defaults and cross-key rules (docs/nats.md).
 * The sink itself (and the NATS client library) is imported only when such a sink is created.
 */
import type { OptionProblem } from '../../component/type.ts';
import { defineComponentType } from '../../component/type.ts';
import { defineSection, positive, type Resolved } from '../../config/fields.ts';
import type { Sink } from '../sink.ts';
import { invalidStaticSubjectReason, invalidSubjectTemplateReason } from './subjects.ts';
import { clientCertificateFields, clientCertificateProblems } from '../../config/client-certificate.ts';
import { debeziumKeyProblems, debeziumValueKeys, handlerCountProblems, SINK_HANDLERS } from '../handler-keys.ts';

export const natsSinkOptions = defineSection({
  servers: {
    kind: 'stringList', required: true,
    doc: 'NATS servers to connect to, e.g. ["nats://nats1:4222", "nats2:4222"] (tls:// for TLS); the client reconnects to any of them',
  },
  handlers: {
    kind: 'stringList', default: ['passthrough'], unique: true, choices: SINK_HANDLERS,
    doc: 'How events become messages: "passthrough" the event JSON in the original\'s format, "debezium" the value of each of Debezium\'s change records (no tombstones: docs/debezium.md); one of them',
  },
  ...debeziumValueKeys,
  debeziumSubjects: {
    kind: 'bool', default: false,
    doc: 'With handlers = ["debezium"]: every table\'s subject is Debezium\'s topic name "<debeziumTopicPrefix>.<schema>.<table>" (tableSubjectMapping and subjectFallback are then not used)',
  },
  tableSubjectMapping: {
    kind: 'stringMap', default: {},
    doc: 'Subject per table, matched exactly (case-sensitive); keys are "table" or "schema.table", e.g. { users = "cdc.users", "billing.invoices" = "cdc.invoices" }',
  },
  subjectFallback: {
    kind: 'string', default: '',
    doc: 'Subject for tables not in tableSubjectMapping; "{schema}" and "{table}" are replaced by the event\'s, e.g. "cdc.{schema}.{table}"; when empty, their events are counted as "no subject" and dropped',
  },
  stream: {
    kind: 'string',
    doc: 'JetStream stream every event must land in: the server rejects a publish captured by another stream (checked by `check`); unset means any stream that captures the subject',
  },
  createStream: {
    kind: 'bool', default: false,
    doc: 'With stream: create the stream at startup when it does not exist, capturing the configured subjects ("{schema}"/"{table}" become "*"), file storage, 2 min duplicate window',
  },
  tlsCaFile: { kind: 'path', doc: 'PEM file of the CA that signed the servers\' certificates (implies TLS; default: the system CAs)' },
  ...clientCertificateFields,
  credentialsFile: { kind: 'path', doc: 'NATS credentials file (.creds: user JWT and NKEY seed), as `nsc` writes it' },
  nkeySeed: { kind: 'string', secret: true, doc: 'NKEY user seed ("SU..."); keep it out of the file with "${NATS_NKEY_SEED}"' },
  token: { kind: 'string', secret: true, doc: 'Authentication token; keep it out of the file with "${NATS_TOKEN}"' },
  user: { kind: 'string', doc: 'User name (with password)' },
  password: { kind: 'string', secret: true, doc: 'Password of user; keep it out of the file with "${NATS_PASSWORD}"' },
  timeout: {
    kind: 'duration', default: 5000, check: positive,
    doc: 'Connect timeout, and how long a publish waits for JetStream\'s acknowledgement before the batch is retried',
  },
  maxInFlight: {
    kind: 'int', default: 4096, check: positive,
    doc: 'Most publishes awaiting their JetStream acknowledgement at once (pipelining within a batch)',
  },
});

/** Resolved keys of a NATS sink. */
export type NatsSinkOptions = Resolved<typeof natsSinkOptions>;

const SERVER = /^(?:(?:nats|tls):\/\/)?(?:[^\s@/]+@)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/[\]@]+)(?::\d{1,5})?$/;

/** Cross-key rules: where events go, and that server addresses and credentials are usable. */
export function validateNatsSink(o: NatsSinkOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (o.servers.length === 0) problems.push({ key: 'servers', message: 'expected at least one server, e.g. ["nats://127.0.0.1:4222"]' });
  for (const server of o.servers.filter((s) => !SERVER.test(s))) {
    problems.push({ key: 'servers', message: `expected [nats://|tls://]host[:port], e.g. "nats://nats1:4222", found ${JSON.stringify(server)}` });
  }
  const mapping = Object.entries(o.tableSubjectMapping);
  problems.push(...handlerCountProblems(o.handlers), ...debeziumKeyProblems(o));
  const debezium = o.handlers.includes('debezium');
  if (o.debeziumSubjects) {
    if (!debezium) problems.push({ key: 'debeziumSubjects', message: 'needs handlers = ["debezium"]' });
    if (mapping.length > 0 || o.subjectFallback !== '') problems.push({ key: 'debeziumSubjects', message: 'names every subject: remove tableSubjectMapping and subjectFallback' });
    if (o.debeziumTopicPrefix !== undefined) {
      const reason = /[{}]/.test(o.debeziumTopicPrefix) ? 'braces are not allowed' : invalidStaticSubjectReason(o.debeziumTopicPrefix);
      if (reason !== undefined) problems.push({ key: 'debeziumTopicPrefix', message: `starts every subject: ${reason}` });
    }
  } else if (mapping.length === 0 && o.subjectFallback === '') {
    problems.push({ key: 'tableSubjectMapping', message: 'no subject configured: set tableSubjectMapping, subjectFallback, or both' });
  }
  for (const [table, subject] of mapping) {
    const reason = invalidStaticSubjectReason(subject);
    if (reason !== undefined) problems.push({ key: 'tableSubjectMapping', message: `the subject of ${JSON.stringify(table)}: ${reason}` });
  }
  if (o.subjectFallback !== '') {
    const reason = invalidSubjectTemplateReason(o.subjectFallback);
    if (reason !== undefined) problems.push({ key: 'subjectFallback', message: reason });
  }
  if (o.stream !== undefined && !/^[^\s.*>/\\]+$/.test(o.stream)) {
    problems.push({ key: 'stream', message: `expected a stream name without spaces, ".", "*", ">", "/" or "\\", found ${JSON.stringify(o.stream)}` });
  }
  if (o.createStream && o.stream === undefined) problems.push({ key: 'createStream', message: 'needs stream (the name of the stream to create)' });
  problems.push(...clientCertificateProblems(o));
  if (o.user !== undefined && o.password === undefined) problems.push({ key: 'user', message: 'needs password' });
  if (o.password !== undefined && o.user === undefined) problems.push({ key: 'password', message: 'needs user' });
  // Both sign the server's nonce with an NKEY: one of them. A token and user/password may go along
  // (the client sends all; the server uses what its configuration asks for).
  if (o.credentialsFile !== undefined && o.nkeySeed !== undefined) {
    problems.push({ key: 'nkeySeed', message: 'choose credentialsFile (which holds its own NKEY seed) or nkeySeed, not both' });
  }
  if (o.nkeySeed !== undefined && !/^SU[A-Z2-7]{56}$/.test(o.nkeySeed.trim())) {
    problems.push({ key: 'nkeySeed', message: 'expected an NKEY user seed: "SU" and 56 base32 characters' });
  }
  return problems;
}

/** `type = "nats"` sinks. */
export const natsSinkType = defineComponentType<typeof natsSinkOptions, Sink>({
  type: 'nats',
  componentType: 'Sink-NATS',
  options: natsSinkOptions,
  validate: validateNatsSink,
  async create(name, options, deps) {
    // Imported here so that the NATS client loads only when a NATS sink is configured.
    const { createNatsSink } = await import('./sink.ts');
    return createNatsSink(name, options, deps);
  },
});
