import { describe, expect, test } from 'bun:test';
import { clientOrigin, parseListenAddress } from '../../../src/config/listen-address.ts';

describe('listen address', () => {
  test('host:port, IPv6 in brackets, an empty host is loopback; anything else is a config error', () => {
    expect(parseListenAddress('127.0.0.1:12080')).toEqual({ hostname: '127.0.0.1', port: 12080 });
    expect(parseListenAddress(':12080')).toEqual({ hostname: '127.0.0.1', port: 12080 });
    expect(parseListenAddress('[::1]:80')).toEqual({ hostname: '::1', port: 80 });
    expect(() => parseListenAddress('12080')).toThrow('http = "12080": expected host:port, e.g. "127.0.0.1:12080"');
  });

  test('a client on this host: wildcards are reached on loopback, IPv6 bracketed, https with TLS', () => {
    expect(clientOrigin(':12080', false)).toBe('http://127.0.0.1:12080');
    expect(clientOrigin('0.0.0.0:12080', false)).toBe('http://127.0.0.1:12080');
    expect(clientOrigin('[::]:12080', true)).toBe('https://[::1]:12080');
    expect(clientOrigin('[fe80::1]:9', false)).toBe('http://[fe80::1]:9');
    expect(clientOrigin('db1.example:443', true)).toBe('https://db1.example:443');
  });
});
