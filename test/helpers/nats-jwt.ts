/**
 * NATS decentralized authentication for tests (docs/nats.md, "Credentials files"): an operator, its
 * accounts and users as NKEYs, their JWTs (header and claims base64url, signed with the issuer's
 * NKEY, as nats-io/jwt v2 writes them), a `.creds` file as `nsc` writes it, and the nats-server
 * configuration that trusts the operator with the accounts preloaded in a memory resolver.
 */
import { createHash } from 'node:crypto';
import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createOperator>;

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

/** RFC 4648 base32 without padding (the `jti` of nats-io/jwt). */
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** A JWT for `subject`'s public key, issued (and signed) by `issuer`, with the type-specific `nats` claims. */
export function encodeJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = { jti: '', iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  claims.jti = base32(createHash('sha512-256').update(JSON.stringify(claims)).digest());
  const signed = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${b64url(JSON.stringify(claims))}`;
  return `${signed}.${b64url(issuer.sign(new TextEncoder().encode(signed)))}`;
}

/** Limits of an account that may do everything, JetStream included. */
const UNLIMITED = {
  subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1,
  mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1,
};

export interface Account {
  key: KeyPair;
  jwt: string;
}

/** An operator with a system account and one application account (JetStream enabled). */
export interface Operator {
  key: KeyPair;
  jwt: string;
  system: Account;
  app: Account;
  /** Lines for nats-server's configuration: trust this operator, the accounts in a memory resolver. */
  serverConf: string;
  /** A `.creds` file's text for a new user of `account` (default: the application account). */
  credsFor(name: string, account?: Account): string;
}

function account(operator: KeyPair, name: string, jetStream: boolean): Account {
  const key = nkeys.createAccount();
  const limits = jetStream ? UNLIMITED : { ...UNLIMITED, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 };
  return { key, jwt: encodeJwt(operator, key.getPublicKey(), name, { type: 'account', limits, default_permissions: { pub: {}, sub: {} } }) };
}

/** A `.creds` file's text, as `nsc generate creds` writes it. */
export function credsFile(jwt: string, seed: string): string {
  return `-----BEGIN NATS USER JWT-----
${jwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------

*************************************************************
`;
}

/** A fresh operator, its system account and an application account. */
export function makeOperator(name = 'test-operator'): Operator {
  const key = nkeys.createOperator();
  const system = account(key, 'SYS', false);
  const app = account(key, 'APP', true);
  const jwt = encodeJwt(key, key.getPublicKey(), name, { type: 'operator', system_account: system.key.getPublicKey() });
  return {
    key, jwt, system, app,
    serverConf: `operator: ${jwt}
system_account: ${system.key.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${system.key.getPublicKey()}: ${system.jwt}
  ${app.key.getPublicKey()}: ${app.jwt}
}
`,
    credsFor(userName: string, of: Account = app): string {
      const user = nkeys.createUser();
      const jwt = encodeJwt(of.key, user.getPublicKey(), userName, { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
      return credsFile(jwt, new TextDecoder().decode(user.getSeed()));
    },
  };
}
