/** The annotated psql-streamer.toml at the top of the repository must stay valid and complete. */
import { describe, expect, test } from 'bun:test';
import { configFromText, sinkTypes, sourceTypes } from '../../../src/components.ts';
import { flagsSpec, globalSpec, pipelineSpec, subscriptionSpec } from '../../../src/config/schema.ts';

const FILE = new URL('../../../psql-streamer.toml', import.meta.url).pathname;
const text = await Bun.file(FILE).text();

/** Turns the optional settings ("#key = ...", "#[table]", "## prose") into active lines. */
const withOptionalSettings = (source: string) =>
  source
    .split('\n')
    .map((line) => (line.startsWith('#') && !line.startsWith('# ') && line !== '#' ? line.slice(1) : line === '#' ? '' : line))
    .join('\n');

describe('psql-streamer.toml', () => {
  test('loads as shipped: one postgres source printed to stdout, no warnings', () => {
    const config = configFromText(FILE, text, {});
    expect(config.sources.map((s) => `${s.name}:${s.type}`)).toEqual(['db1:postgres']);
    expect(config.sinks.map((s) => `${s.name}:${s.type}:${s.sources.join(',')}`)).toEqual(['stdout:file:db1']);
    expect(config.sinks[0]!.options).toEqual({ path: '-', fsync: false });
    expect(config.stateFile).toBe('/var/lib/psql-streamer/state.db');
    expect(config.warnings).toEqual([]);
  });

  test('loads with every optional setting enabled', () => {
    const enabled = withOptionalSettings(text);
    expect(enabled).not.toContain('\n#[');
    const config = configFromText(FILE, enabled, {
      KAFKA_PASSWORD: 'secret', PSQL_STREAMER_HTTP_TOKEN: 'example-token-0123456789', WEBHOOK_TOKEN: 'hook-secret',
      NATS_TOKEN: 't', NATS_PASSWORD: 'p', NATS_NKEY_SEED: 'SUAM3ZGX7IPGQVZ4AUBRY4ZM2E7RFDWIMALRFU3MIMQ4M4K4AZRJG6A5NM',
    });
    expect(config.sources.map((s) => `${s.name}:${s.type}`)).toEqual(['db1:postgres', 'relay:kafka']);
    expect(config.sinks.map((s) => `${s.name}:${s.type}`)).toEqual(['stdout:file', 'kafka:kafka', 'webhook:http', 'nats:nats', 'nats_nkey:nats', 'archive:file', 'nowhere:stub_discard']);
    expect(config.sinks[1]!.options.saslPassword).toBe('secret');
    expect(config.sinks[2]!.options.headers).toEqual({ Authorization: 'Bearer hook-secret' });
    expect(config.warnings).toEqual([]);
    expect(config.httpSecurity).toEqual({ token: 'example-token-0123456789', auth: 'control', tls: { certFile: '/etc/psql-streamer/http.crt', keyFile: '/etc/psql-streamer/http.key' } });
  });

  test('shows every key of every section', () => {
    const specs = [globalSpec, pipelineSpec, flagsSpec, subscriptionSpec, ...Object.values(sourceTypes).map((t) => t.options), ...Object.values(sinkTypes).map((t) => t.options)];
    const written = new Set([...text.matchAll(/^#?\s*([A-Za-z]+)\s*=/gm)].map((m) => m[1]));
    const missing = specs.flatMap((spec) => Object.keys(spec)).filter((key) => !written.has(key));
    expect(missing).toEqual([]);
  });
});
