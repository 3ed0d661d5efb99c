/**
 * src/kafka/library/: the parts of @platformatic/kafka imported by path instead of through its
 * index (docs/benchmarks.md, "Loading less of the Kafka library"). Fails loudly when the library
 * moves a file or the file stops being what its index exports, and proves what each component
 * loads: the sink no consumer, admin or schema-registry code, the source no admin code.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as index from '@platformatic/kafka';
import * as admin from '../../../src/kafka/library/admin.ts';
import * as consumer from '../../../src/kafka/library/consumer.ts';
import * as producer from '../../../src/kafka/library/producer.ts';
import * as protocol from '../../../src/kafka/library/protocol.ts';

const ROOT = join(import.meta.dir, '../../..');

/** The library files (under its dist/) that importing `module` loads, in a fresh process. */
function libraryLoads(module: string): string[] {
  const run = Bun.spawnSync(['bun', join(ROOT, 'test/helpers/library-loads.ts'), join(ROOT, module)], { cwd: ROOT, stderr: 'pipe' });
  if (run.exitCode !== 0) throw new Error(`library-loads ${module}: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString()) as string[];
}

describe('the library by path', () => {
  for (const [name, exports] of Object.entries({ admin, consumer, producer, protocol })) {
    test(`${name}: every export is the index's export of that name`, () => {
      const names = Object.keys(exports);
      expect(names.length).toBeGreaterThan(0);
      for (const key of names) {
        expect({ key, value: (exports as Record<string, unknown>)[key] }).toEqual({ key, value: (index as Record<string, unknown>)[key] });
        expect((exports as Record<string, unknown>)[key]).toBe((index as Record<string, unknown>)[key]);
      }
    });
  }

  test('the protocol module has the produce and transaction requests the sink sends', () => {
    for (const key of ['produceV3', 'produceV11', 'endTxnV4', 'txnOffsetCommitV4', 'initProducerIdV5', 'apiVersionsV3', 'createAPI']) {
      expect(typeof (protocol as Record<string, unknown>)[key]).not.toBe('undefined');
    }
  });
});

describe('what a component loads of the library', () => {
  test('no file under src/ imports the package index for a value (type-only imports load nothing)', () => {
    // Bun's own scanner drops type-only imports, which is what counts here.
    const transpiler = new Bun.Transpiler({ loader: 'ts' });
    const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((f) => transpiler.scanImports(readFileSync(join(ROOT, 'src', f), 'utf8').replace(/^#!.*/, '')).some((i) => i.path === '@platformatic/kafka'));
    expect(offenders).toEqual([]);
    // The scanner does see a value import of the index (so the check above can fail).
    expect(transpiler.scanImports("import { Producer } from '@platformatic/kafka';").map((i) => i.path)).toEqual(['@platformatic/kafka']);
  });


  const notForAProducer = (file: string) =>
    file === 'index.js' || file.startsWith('(package)') || file.startsWith('clients/consumer/') || file.startsWith('clients/admin/') || file.startsWith('registries/confluent');

  test('the Kafka sink: the producer, no consumer, admin, schema registry or package index', () => {
    const files = libraryLoads('src/sinks/kafka/sink.ts');
    expect(files).toContain('clients/producer/producer.js');
    expect(files.filter(notForAProducer)).toEqual([]);
  }, 60_000);

  test('the Kafka source: the consumer (and the producer for dead letters), no admin or package index', () => {
    const files = libraryLoads('src/sources/kafka/source.ts');
    expect(files).toContain('clients/consumer/consumer.js');
    expect(files.filter((f) => f === 'index.js' || f.startsWith('(package)') || f.startsWith('clients/admin/') || f.startsWith('registries/confluent'))).toEqual([]);
  }, 60_000);
});
