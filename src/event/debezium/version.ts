/**
 * The Debezium release whose output the format reproduces and was golden-tested against
 * (test/fixtures/debezium/, docs/debezium.md): written as `source.version`.
 */
export const DEBEZIUM_COMPAT_VERSION = '3.6.1.Final';
