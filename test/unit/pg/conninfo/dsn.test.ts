import { describe, expect, test } from 'bun:test';
import { DsnError, type DsnEnvironment, resolveDsn } from '../../../../src/pg/conninfo/dsn.ts';

interface FakeFile {
  text: string;
  mode?: number;
  dir?: boolean;
}

/** A DsnEnvironment over in-memory files; warnings are collected. */
function fakeEnv(env: Record<string, string> = {}, files: Record<string, FakeFile> = {}): DsnEnvironment & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    env,
    osUser: 'osuser',
    homeDir: '/home/osuser',
    readFile: (path) => files[path]?.text,
    stat: (path) => (files[path] ? { mode: files[path].mode ?? 0o600, isFile: !files[path].dir } : undefined),
    warn: (message) => warnings.push(message),
    warnings,
  };
}

const resolve = (text: string, env?: Record<string, string>, files?: Record<string, FakeFile>) => resolveDsn(text, fakeEnv(env, files));

describe('defaults', () => {
  test('libpq defaults: localhost (no default socket), 5432, OS user, dbname = user, sslmode prefer', () => {
    const r = resolve('');
    expect(r.options).toEqual({ host: 'localhost', port: 5432, user: 'osuser', database: 'osuser', sslmode: 'prefer' });
    expect(r.connectTimeoutMs).toBeUndefined();
    expect(r.applicationName).toBeUndefined();
  });

  test('the default unix socket is used when its socket file exists', () => {
    expect(resolve('port=5433', {}, { '/var/run/postgresql/.s.PGSQL.5433': { text: '' } }).options.host).toBe('/var/run/postgresql');
    expect(resolve('port=5434', {}, { '/var/run/postgresql/.s.PGSQL.5433': { text: '' } }).options.host).toBe('localhost');
  });

  test('an empty host is the default too', () => {
    expect(resolve("host=''").options.host).toBe('localhost');
  });

  test('~/.postgresql certificate files are used only when they exist', () => {
    const files = { '/home/osuser/.postgresql/root.crt': { text: 'CA' }, '/home/osuser/.postgresql/postgresql.key': { text: 'K' } };
    const r = resolve('', {}, files);
    expect(r.options.sslrootcert).toBe('/home/osuser/.postgresql/root.crt');
    expect(r.options.sslkey).toBe('/home/osuser/.postgresql/postgresql.key');
    expect(r.options.sslcert).toBeUndefined();
  });
});

describe('the original DSN and its event fields', () => {
  test('host, port, user, password, dbname, sslmode, cert keys', () => {
    const r = resolve('host=db1 port=5433 user=streamer password=pw dbname=app sslmode=verify-full sslrootcert=/ca.pem sslcert=/c.pem sslkey=/k.pem');
    expect(r.options).toEqual({
      host: 'db1', port: 5433, user: 'streamer', password: 'pw', database: 'app', sslmode: 'verify-full',
      sslrootcert: '/ca.pem', sslcert: '/c.pem', sslkey: '/k.pem',
    });
    expect(r.eventHost).toBe('db1');
    expect(r.eventDatabase).toBe('app');
  });

  test('Host is "unknown" and Database "" when the string has none, even if PGHOST/PGDATABASE set them', () => {
    const r = resolve('user=u', { PGHOST: 'envhost', PGDATABASE: 'envdb' });
    expect(r.options.host).toBe('envhost');
    expect(r.options.database).toBe('envdb');
    expect(r.eventHost).toBe('unknown');
    expect(r.eventDatabase).toBe('');
  });

  test('URI form gives the same options and event fields', () => {
    const r = resolve('postgres://streamer:pw@db1:5433/app?sslmode=require&target_session_attrs=read-write');
    expect(r.options).toMatchObject({ host: 'db1', port: 5433, user: 'streamer', password: 'pw', database: 'app', sslmode: 'require', targetSessionAttrs: 'read-write' });
    expect(r.eventHost).toBe('db1');
    expect(r.eventDatabase).toBe('app');
  });

  test('a unix socket directory as host', () => {
    const r = resolve('host=/tmp/pg port=6000');
    expect(r.options.host).toBe('/tmp/pg');
    expect(r.eventHost).toBe('/tmp/pg');
  });

  test('connect_timeout (seconds, minimum 2, 0 = none) and application_name are returned for the source', () => {
    expect(resolve('connect_timeout=10').connectTimeoutMs).toBe(10_000);
    expect(resolve('connect_timeout=1').connectTimeoutMs).toBe(2_000);
    expect(resolve('connect_timeout=0').connectTimeoutMs).toBe(0);
    expect(resolve('application_name=me').applicationName).toBe('me');
    expect(resolve('fallback_application_name=fb').applicationName).toBe('fb');
    expect(resolve('application_name=me fallback_application_name=fb').applicationName).toBe('me');
  });
});

describe('environment precedence: string > environment > defaults', () => {
  const env = {
    PGHOST: 'envhost', PGPORT: '7000', PGUSER: 'envuser', PGPASSWORD: 'envpw', PGDATABASE: 'envdb', PGSSLMODE: 'require',
    PGSSLROOTCERT: '/env/ca', PGSSLCERT: '/env/cert', PGSSLKEY: '/env/key', PGCONNECT_TIMEOUT: '5', PGAPPNAME: 'envapp',
    PGOPTIONS: '-c work_mem=64MB', PGTARGETSESSIONATTRS: 'primary',
  };

  test('every PG* variable applies when the string is silent', () => {
    const r = resolve('', env);
    expect(r.options).toEqual({
      host: 'envhost', port: 7000, user: 'envuser', password: 'envpw', database: 'envdb', sslmode: 'require',
      sslrootcert: '/env/ca', sslcert: '/env/cert', sslkey: '/env/key', targetSessionAttrs: 'primary',
      params: { options: '-c work_mem=64MB' },
    });
    expect(r.connectTimeoutMs).toBe(5000);
    expect(r.applicationName).toBe('envapp');
  });

  test('the string wins over every variable', () => {
    const r = resolve('host=h port=1 user=u password=p dbname=d sslmode=disable sslrootcert=/ca sslcert=/c sslkey=/k connect_timeout=3 application_name=a', env);
    expect(r.options).toMatchObject({ host: 'h', port: 1, user: 'u', password: 'p', database: 'd', sslmode: 'disable', sslrootcert: '/ca', sslcert: '/c', sslkey: '/k' });
    expect(r.connectTimeoutMs).toBe(3000);
    expect(r.applicationName).toBe('a');
  });

  test('empty variables count as unset', () => {
    expect(resolve('', { PGHOST: '', PGUSER: '' }).options).toMatchObject({ host: 'localhost', user: 'osuser' });
  });

  test('dbname defaults to the effective user (from PGUSER)', () => {
    expect(resolve('', { PGUSER: 'envuser' }).options.database).toBe('envuser');
  });
});

describe('password file', () => {
  const pgpass = (text: string, mode = 0o600) => ({ '/home/osuser/.pgpass': { text, mode } });

  test('used when no password is given, matched on host, port, database, user', () => {
    const files = pgpass('db1:5432:app:u:frompgpass\n*:*:*:*:fallback');
    expect(resolve('host=db1 dbname=app user=u', {}, files).options.password).toBe('frompgpass');
    expect(resolve('host=db2 dbname=app user=u', {}, files).options.password).toBe('fallback');
  });

  test('a password in the string or PGPASSWORD wins over the file', () => {
    const files = pgpass('*:*:*:*:file');
    expect(resolve('password=s', {}, files).options.password).toBe('s');
    expect(resolve('', { PGPASSWORD: 'e' }, files).options.password).toBe('e');
  });

  test('the default socket directory is looked up as localhost, another directory by its path', () => {
    const files = {
      ...pgpass('localhost:5432:*:*:local\n/tmp/pg:5432:*:*:tmpdir'),
      '/var/run/postgresql/.s.PGSQL.5432': { text: '' },
    };
    expect(resolve('', {}, files).options.password).toBe('local');
    expect(resolve('host=/tmp/pg', {}, files).options.password).toBe('tmpdir');
  });

  test('passfile / PGPASSFILE choose another file', () => {
    const files = { '/etc/pw': { text: '*:*:*:*:etc' }, '/env/pw': { text: '*:*:*:*:env' } };
    expect(resolve('passfile=/etc/pw', {}, files).options.password).toBe('etc');
    expect(resolve('', { PGPASSFILE: '/env/pw' }, files).options.password).toBe('env');
  });

  test('a file readable by group or others is skipped with a warning, as libpq does', () => {
    const environment = fakeEnv({}, pgpass('*:*:*:*:leaky', 0o644));
    expect(resolveDsn('', environment).options.password).toBeUndefined();
    expect(environment.warnings).toEqual([
      'password file "/home/osuser/.pgpass" has group or world access; permissions should be u=rw (0600) or less; ignored',
    ]);
  });

  test('a directory in its place is skipped with a warning', () => {
    const environment = fakeEnv({}, { '/home/osuser/.pgpass': { text: '', dir: true } });
    expect(resolveDsn('', environment).options.password).toBeUndefined();
    expect(environment.warnings[0]).toMatch(/not a plain file/);
  });
});

describe('keys', () => {
  test('unknown setting names become startup parameters (as the original did), case kept', () => {
    expect(resolve('statement_timeout=0 DateStyle=ISO myext.flag=on').options.params).toEqual({ statement_timeout: '0', DateStyle: 'ISO', 'myext.flag': 'on' });
  });

  test('a near-miss of a libpq keyword is an error with a suggestion', () => {
    expect(() => resolve('sslmdoe=require')).toThrow('unknown key "sslmdoe" (did you mean "sslmode"?)');
    expect(() => resolve('dbnmae=x')).toThrow(/did you mean "dbname"/);
    expect(() => resolve('Host=x')).toThrow(/did you mean "host"/);
  });

  test('a key that is no setting name is an error naming it', () => {
    expect(() => resolve('foo-bar=x')).toThrow('"foo-bar" is neither a connection keyword nor a setting name');
  });

  test('keywords that would weaken what the user asked for are refused', () => {
    for (const text of ['service=x', 'sslcrl=/crl', 'requirepeer=postgres', 'require_auth=scram-sha-256', 'channel_binding=require', 'gssencmode=require']) {
      expect(() => resolve(text)).toThrow(DsnError);
    }
  });

  test('harmless libpq keywords are accepted and ignored', () => {
    const r = resolve('keepalives=1 keepalives_idle=10 sslcompression=0 sslsni=1 channel_binding=prefer gssencmode=disable replication=database target_session_attrs=any');
    expect(r.options.params).toBeUndefined();
    expect(r.options.targetSessionAttrs).toBe('any');
  });

  test('client_encoding must be UTF-8', () => {
    expect(() => resolve('client_encoding=UTF8')).not.toThrow();
    expect(() => resolve('client_encoding=LATIN1')).toThrow(/client_encoding must be UTF8/);
  });

  test('invalid values name the key', () => {
    expect(() => resolve('port=abc')).toThrow('port must be an integer from 1 to 65535, not "abc"');
    expect(() => resolve('port=70000')).toThrow(/port must be/);
    expect(() => resolve('sslmode=on')).toThrow('sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, not "on"');
    expect(() => resolve('target_session_attrs=master')).toThrow(/target_session_attrs must be one of/);
    expect(() => resolve('', { PGPORT: 'x' })).toThrow(/port must be/);
  });

  test('several hosts are refused', () => {
    expect(() => resolve('host=a,b')).toThrow(/several hosts/);
    expect(() => resolve('postgres://a:1,b:2/d')).toThrow(/several hosts/);
  });

  test('hostaddr, sslpassword and TLS protocol versions', () => {
    const r = resolve('host=db.example hostaddr=10.0.0.5 sslpassword=kp ssl_min_protocol_version=TLSv1.2 ssl_max_protocol_version=TLSv1.3');
    expect(r.options).toMatchObject({ host: 'db.example', hostaddr: '10.0.0.5', sslpassword: 'kp', sslMinProtocolVersion: 'TLSv1.2', sslMaxProtocolVersion: 'TLSv1.3' });
    expect(() => resolve('ssl_min_protocol_version=SSLv3')).toThrow(/ssl_min_protocol_version must be one of/);
  });

  test('no error message ever contains the password', () => {
    for (const text of ["password='topsecret", 'password=topsecret sslmode=bad', 'postgres://u:topsecret@h:badport/d', 'postgres://u:top%zzsecret@h/d']) {
      try {
        resolve(text);
        throw new Error(`no error for ${text}`);
      } catch (err) {
        expect(err).toBeInstanceOf(DsnError);
        expect((err as Error).message).not.toContain('topsecret');
        expect((err as Error).message).not.toContain('top%zzsecret');
      }
    }
  });
});
