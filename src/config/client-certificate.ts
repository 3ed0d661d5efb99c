/**
 * The client-certificate keys of every component that speaks TLS to a server (Kafka, HTTP and NATS
 * sinks): their definitions and their one rule, that a certificate comes with its key. The CA key
 * differs in wording per component and stays with it.
 */
import type { OptionProblem } from './component-spec.ts';

export const clientCertificateFields = {
  tlsCertFile: { kind: 'path', doc: 'PEM client certificate for mutual TLS (with tlsKeyFile)' },
  tlsKeyFile: { kind: 'path', doc: 'PEM private key of tlsCertFile', secret: true },
} as const;

/** A certificate without its key, or a key without its certificate. */
export function clientCertificateProblems(o: { tlsCertFile?: string; tlsKeyFile?: string }): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (o.tlsCertFile && !o.tlsKeyFile) problems.push({ key: 'tlsCertFile', message: 'needs tlsKeyFile (the private key of the client certificate)' });
  if (o.tlsKeyFile && !o.tlsCertFile) problems.push({ key: 'tlsKeyFile', message: 'needs tlsCertFile (the client certificate of this key)' });
  return problems;
}
