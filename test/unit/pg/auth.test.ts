import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { AuthError, chooseSaslMechanism, md5Password, saslPrep, ScramClient } from '../../../src/pg/auth.ts';
import { Authenticator } from '../../../src/pg/startup.ts';
import { Reader } from '../../../src/pg/reader.ts';

// RFC 7677 section 3: user "user", password "pencil".
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM-SHA-256', () => {
  test('RFC 7677 test vector: client-first, client-final with proof, server signature accepted', async () => {
    const scram = new ScramClient('pencil', { user: 'user', nonce: CLIENT_NONCE });
    expect(scram.clientFirst()).toBe(`n,,n=user,r=${CLIENT_NONCE}`);
    expect(await scram.clientFinal(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(() => scram.verifyServerFinal(SERVER_FINAL)).not.toThrow();
  });

  test('a wrong server signature is rejected (the server does not know the password)', async () => {
    const scram = new ScramClient('pencil', { user: 'user', nonce: CLIENT_NONCE });
    await scram.clientFinal(SERVER_FIRST);
    expect(() => scram.verifyServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(/server signature is wrong/);
    expect(() => scram.verifyServerFinal('v=')).toThrow(AuthError);
    expect(() => scram.verifyServerFinal('e=invalid-proof')).toThrow(/SCRAM authentication failed: invalid-proof/);
  });

  test('a wrong password gives another proof', async () => {
    const scram = new ScramClient('pencil!', { user: 'user', nonce: CLIENT_NONCE });
    expect(await scram.clientFinal(SERVER_FIRST)).not.toBe(CLIENT_FINAL);
  });

  test('PostgreSQL style: empty user name, random nonce of 24 base64 characters', () => {
    const a = new ScramClient('x').clientFirst();
    const b = new ScramClient('x').clientFirst();
    expect(a).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/);
    expect(a).not.toBe(b);
  });

  test.each([
    ['a nonce that does not extend ours', 'r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce/],
    ['the same nonce as ours', `r=${CLIENT_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /nonce/],
    ['no salt', `r=${CLIENT_NONCE}x,i=4096`, /lacks/],
    ['zero iterations', `r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0`, /lacks/],
    ['garbage', 'hello', /malformed/],
  ])('server-first with %s is refused', async (_name, serverFirst, message) => {
    const scram = new ScramClient('pencil', { nonce: CLIENT_NONCE });
    await expect(scram.clientFinal(serverFirst)).rejects.toThrow(message);
  });

  test('server-final before client-final is refused', () => {
    expect(() => new ScramClient('p').verifyServerFinal(SERVER_FINAL)).toThrow(AuthError);
  });

  test('mechanism choice: SCRAM-SHA-256, never -PLUS only', () => {
    expect(chooseSaslMechanism(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'])).toBe('SCRAM-SHA-256');
    expect(() => chooseSaslMechanism(['SCRAM-SHA-256-PLUS'])).toThrow(/SCRAM-SHA-256-PLUS \(channel binding\)/);
    expect(() => chooseSaslMechanism(['OAUTHBEARER'])).toThrow(/offered: OAUTHBEARER/);
  });

  test('SASLprep: ASCII unchanged, non-ASCII spaces mapped, soft hyphen removed, NFKC', () => {
    expect(saslPrep('pencil')).toBe('pencil');
    expect(saslPrep('a\u00A0b')).toBe('a b');
    expect(saslPrep('I\u00ADX')).toBe('IX');
    expect(saslPrep('\u2168')).toBe('IX'); // ROMAN NUMERAL NINE
  });
});

describe('md5', () => {
  test('md5 + md5hex(md5hex(password + user) + salt)', () => {
    // The stored hash of postgres/postgres is the well-known md53175bce1d3201d16594cebf9d7eb3f9d.
    const salt = Uint8Array.of(0x01, 0x02, 0x03, 0x04);
    const expected = 'md5' + createHash('md5').update('3175bce1d3201d16594cebf9d7eb3f9d').update(salt).digest('hex');
    expect(md5Password('postgres', 'postgres', salt)).toBe(expected);
    expect(md5Password('postgres', 'postgres', salt)).toMatch(/^md5[0-9a-f]{32}$/);
  });
});

describe('Authenticator', () => {
  const body = (bytes: Uint8Array | Promise<Uint8Array> | undefined) => {
    if (!(bytes instanceof Uint8Array)) throw new Error('expected a synchronous reply');
    const r = new Reader(bytes);
    expect(String.fromCharCode(r.u8())).toBe('p');
    r.i32();
    return r;
  };

  test('cleartext and md5 answer at once with a PasswordMessage', () => {
    const auth = new Authenticator('postgres', 'postgres');
    expect(body(auth.respond({ kind: 'cleartext' })).cstring()).toBe('postgres');
    expect(body(auth.respond({ kind: 'md5', salt: Uint8Array.of(1, 2, 3, 4) })).cstring()).toMatch(/^md5[0-9a-f]{32}$/);
    expect(auth.respond({ kind: 'ok' })).toBeUndefined();
  });

  test('a password request without a password says where to put one', () => {
    const auth = new Authenticator('u', undefined);
    expect(() => auth.respond({ kind: 'md5', salt: new Uint8Array(4) })).toThrow(/none is set.*PGPASSWORD.*pgpass/);
    expect(() => auth.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] })).toThrow(AuthError);
  });

  test('unsupported methods and a SASL exchange out of order are refused synchronously', () => {
    const auth = new Authenticator('u', 'p');
    expect(() => auth.respond({ kind: 'unsupported', code: 7, name: 'GSSAPI' })).toThrow(/GSSAPI authentication, which psql-streamer does not support/);
    expect(() => auth.respond({ kind: 'sasl-continue', data: 'r=x' })).toThrow(/without a SASL exchange/);
    expect(() => auth.respond({ kind: 'sasl-final', data: 'v=x' })).toThrow(/without a SASL exchange/);
  });

  test('a full SCRAM exchange: initial response, asynchronous final, synchronous verification', async () => {
    const auth = new Authenticator('u', 'pencil');
    const initial = body(auth.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] }));
    expect(initial.cstring()).toBe('SCRAM-SHA-256');
    const clientFirst = initial.string(initial.i32());
    const nonce = clientFirst.split('r=')[1]!;
    const final = auth.respond({ kind: 'sasl-continue', data: `r=${nonce}server,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096` });
    expect(final).toBeInstanceOf(Promise);
    const reply = new Reader(await final!);
    reply.u8();
    reply.i32();
    expect(reply.string(reply.remaining)).toMatch(/^c=biws,r=.*server,p=[A-Za-z0-9+/]+=*$/);
    expect(() => auth.respond({ kind: 'sasl-final', data: 'v=AAAA' })).toThrow(/server signature is wrong/);
  });

  test('AuthenticationOk after SASL without SASLFinal is refused (server never proved itself)', () => {
    const auth = new Authenticator('u', 'p');
    body(auth.respond({ kind: 'sasl', mechanisms: ['SCRAM-SHA-256'] }));
    expect(() => auth.respond({ kind: 'ok' })).toThrow(/without proving its identity/);
  });
});
