/** Connection keys shared by the Kafka source and the Kafka sink: brokers, client id, TLS, SASL. */
import type { OptionProblem } from '../config/component-spec.ts';
import { defineSection, type Resolved } from '../config/fields.ts';
import { clientCertificateFields, clientCertificateProblems } from '../config/client-certificate.ts';

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/;

export const kafkaClientOptions = defineSection({
  hosts: {
    kind: 'stringList', required: true, original: true,
    doc: 'Bootstrap brokers as host:port',
  },
  clientId: { kind: 'string', default: 'psql-streamer', doc: 'Client id sent to the brokers (shows in broker logs and quotas)' },
  tls: { kind: 'bool', default: false, doc: 'Connect to the brokers over TLS; implied by any tls*File key' },
  tlsCaFile: { kind: 'path', doc: 'PEM file of the CA that signed the brokers\' certificates (default: the system CAs)' },
  ...clientCertificateFields,
  saslMechanism: {
    kind: 'string', choices: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
    doc: 'SASL authentication mechanism (with saslUsername and saslPassword); unset means no SASL',
  },
  saslUsername: { kind: 'string', doc: 'SASL user name' },
  saslPassword: { kind: 'string', secret: true, doc: 'SASL password; keep it out of the file with "${KAFKA_PASSWORD}"' },
});

/** The resolved connection keys. */
export type KafkaClientOptions = Resolved<typeof kafkaClientOptions>;

/** Rules of the connection keys: broker addresses, TLS pairs and SASL credentials. */
export function validateKafkaClient(o: KafkaClientOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  for (const host of o.hosts.filter((h) => !HOST_PORT.test(h))) {
    problems.push({ key: 'hosts', message: `expected host:port, e.g. "kafka1:9092", found ${JSON.stringify(host)}` });
  }
  problems.push(...clientCertificateProblems(o));
  if (o.saslMechanism) {
    if (!o.saslUsername) problems.push({ key: 'saslMechanism', message: `${o.saslMechanism} needs saslUsername` });
    if (o.saslPassword === undefined) problems.push({ key: 'saslMechanism', message: `${o.saslMechanism} needs saslPassword` });
  } else if (o.saslUsername || o.saslPassword) {
    problems.push({ key: o.saslUsername ? 'saslUsername' : 'saslPassword', message: 'needs saslMechanism ("PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512")' });
  }
  return problems;
}

/** Whether the connection uses TLS (explicitly or through a certificate key). */
export function usesTls(o: KafkaClientOptions): boolean {
  return o.tls || Boolean(o.tlsCaFile || o.tlsCertFile || o.tlsKeyFile);
}
