/**
 * The parts of @platformatic/kafka the Kafka sink and the source's dead letters use, imported from
 * the library's own files instead of its index (docs/benchmarks.md, "Loading less of the Kafka
 * library"): the index loads every client (admin, consumer), the schema registries (avsc,
 * protobufjs) and compiles their option schemas, ≈ 16 MB of memory and ≈ 200 ms of CPU a
 * producer never needs. The package exports only its index (Bun refuses a deeper package path), so
 * the files are reached by their path in node_modules, which `bun build --compile` (scripts/build)
 * bundles like any import. test/unit/kafka/library.test.ts fails when a path moves or stops being
 * what the index exports, and proves that the sink loads no consumer, admin or registry module.
 * Type-only imports may keep naming the package: they load nothing.
 */
export { Producer } from '../../../node_modules/@platformatic/kafka/dist/clients/producer/producer.js';
export { compressionsAlgorithms } from '../../../node_modules/@platformatic/kafka/dist/protocol/compression.js';
