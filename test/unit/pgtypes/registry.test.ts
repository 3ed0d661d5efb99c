import { describe, expect, test } from 'bun:test';
import { goJsonValue } from '../../../src/event/go-json.ts';
import { BUILTIN_TYPES, OID } from '../../../src/pgtypes/oids.ts';
import { TypeRegistry } from '../../../src/pgtypes/registry.ts';
import { jsonOf, recordingRegistry } from '../../helpers/pgtypes.ts';

const MOOD = 16400; // enum
const MOOD_ARRAY = 16399;
const POSITIVE = 16410; // domain over int4
const SMALL_POSITIVE = 16411; // domain over the domain
const POSITIVE_ARRAY = 16412;
const PAIR = 16420; // composite
const TAGS = 16430; // domain over text[]
const CITEXT = 16440; // extension base type
const HSTORE_ARRAY = 16441; // array of an extension type not looked up yet

function teach(registry: TypeRegistry): void {
  registry.define({ oid: MOOD, name: 'mood', kind: 'enum' });
  registry.define({ oid: MOOD_ARRAY, name: 'mood[]', kind: 'base', elemOid: MOOD, delimiter: ',' });
  registry.define({ oid: POSITIVE, name: 'positive', kind: 'domain', baseOid: OID.int4 });
  registry.define({ oid: SMALL_POSITIVE, name: 'small_positive', kind: 'domain', baseOid: POSITIVE });
  registry.define({ oid: POSITIVE_ARRAY, name: 'positive[]', kind: 'base', elemOid: POSITIVE });
  registry.define({ oid: PAIR, name: 'pair', kind: 'composite' });
  registry.define({ oid: TAGS, name: 'tags', kind: 'domain', baseOid: OID._text });
  registry.define({ oid: CITEXT, name: 'citext', kind: 'base' });
}

describe('TypeRegistry', () => {
  test('every built-in type has a converter and needs no lookup', () => {
    const registry = new TypeRegistry();
    for (const [oid] of BUILTIN_TYPES) {
      expect(typeof registry.converter(oid)).toBe('function');
      expect(registry.needsLookup(oid)).toBe(false);
    }
  });

  test('every built-in array type converts an array literal to a JSON array', () => {
    const registry = new TypeRegistry();
    const arrays = BUILTIN_TYPES.filter((row) => row[4] !== 0);
    expect(arrays.length).toBeGreaterThan(80);
    for (const [oid] of arrays) {
      expect(registry.converter(oid)('{}')).toEqual([]);
      expect(registry.converter(oid)('{NULL}')).toEqual([null]);
    }
  });

  test('unknown types are text and need a lookup', () => {
    const registry = new TypeRegistry();
    expect(registry.converter(99999)('(1,"a b")')).toBe('(1,"a b")');
    expect(registry.needsLookup(99999)).toBe(true);
  });

  test('defined types: enums and composites are text, domains convert as their base, custom arrays by element', () => {
    const registry = new TypeRegistry();
    teach(registry);
    expect(jsonOf(MOOD, 'happy', registry)).toBe('"happy"');
    expect(jsonOf(MOOD_ARRAY, '{happy,NULL,"very sad"}', registry)).toBe('["happy",null,"very sad"]');
    expect(jsonOf(POSITIVE, '42', registry)).toBe('42');
    expect(jsonOf(SMALL_POSITIVE, '7', registry)).toBe('7');
    expect(jsonOf(POSITIVE_ARRAY, '{{1,2},{3,NULL}}', registry)).toBe('[[1,2],[3,null]]');
    expect(jsonOf(PAIR, '(1,"x y")', registry)).toBe('"(1,\\"x y\\")"');
    expect(jsonOf(TAGS, '{a,"b c"}', registry)).toBe('["a","b c"]');
    expect(jsonOf(CITEXT, 'MiXeD', registry)).toBe('"MiXeD"');
    for (const oid of [MOOD, MOOD_ARRAY, POSITIVE, SMALL_POSITIVE, POSITIVE_ARRAY, PAIR, TAGS, CITEXT]) {
      expect(registry.needsLookup(oid)).toBe(false);
    }
  });

  test('a type built on an unknown type still needs a lookup', () => {
    const registry = new TypeRegistry();
    registry.define({ oid: HSTORE_ARRAY, name: 'hstore[]', kind: 'base', elemOid: 16442 });
    registry.define({ oid: 16443, name: 'd', kind: 'domain', baseOid: 16444 });
    expect(registry.needsLookup(HSTORE_ARRAY)).toBe(true);
    expect(registry.needsLookup(16443)).toBe(true);
    expect(goJsonValue(registry.converter(HSTORE_ARRAY)('{"\\"a\\"=>\\"1\\""}'))).toBe('["\\"a\\"=\\u003e\\"1\\""]');
    registry.define({ oid: 16442, name: 'hstore', kind: 'base' });
    expect(registry.needsLookup(HSTORE_ARRAY)).toBe(false);
  });

  test('defining a type rebuilds converters that depended on it', () => {
    const registry = new TypeRegistry();
    registry.define({ oid: 16501, name: 'ids', kind: 'base', elemOid: 16500 });
    expect(registry.converter(16501)('{1,2}')).toEqual(['1', '2']); // element unknown: text
    registry.define({ oid: 16500, name: 'id', kind: 'domain', baseOid: OID.int8 });
    expect(registry.converter(16501)('{1,2}')).toEqual([1, 2]);
  });

  test('built-in types cannot be redefined', () => {
    const registry = new TypeRegistry();
    registry.define({ oid: OID.int4, name: 'int4', kind: 'enum' });
    expect(registry.converter(OID.int4)('5')).toBe(5);
    expect(registry.defined(OID.int4)).toBeUndefined();
  });

  test('a cycle in bad catalog data ends in text, not a hang', () => {
    const registry = new TypeRegistry();
    registry.define({ oid: 16600, name: 'a', kind: 'domain', baseOid: 16601 });
    registry.define({ oid: 16601, name: 'b', kind: 'domain', baseOid: 16600 });
    expect(registry.converter(16600)('x')).toBe('x');
    expect(registry.needsLookup(16600)).toBe(false);
  });

  test('problems name the OID of the type whose value was bad', () => {
    const { registry, problems } = recordingRegistry();
    teach(registry);
    expect(registry.converter(POSITIVE)('oops')).toBe('oops');
    expect(problems).toEqual([{ oid: OID.int4, text: 'oops', why: 'not an integer' }]);
  });

  test('converters are cached per OID', () => {
    const registry = new TypeRegistry();
    expect(registry.converter(OID._int4)).toBe(registry.converter(OID._int4));
  });
});

describe('no value ever throws', () => {
  // Random text, biased towards the characters the parsers look at.
  const ALPHABET = '{}[]:="\\,;-+. 0123456789eEtfxNULLnulBCinfityaZ\n\t\u00e9\u2028😀';
  function randomText(length: number, random: () => number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
    return s;
  }
  function seeded(seed: number): () => number {
    return () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
  }

  test('random and mangled text for every type converts to valid JSON', () => {
    const registry = new TypeRegistry({ onProblem: () => {} });
    teach(registry);
    const random = seeded(42);
    const samples = [
      '{1,2,NULL}', '{"a,b","c\\"d"}', '[0:1]={{1,2},{3,4}}', '2020-01-02 03:04:05.123+05:30', '0044-03-15 BC',
      '\\x0102', 'a\\\\b\\001', '{"a": [1, {"b": 2}]}', 'NaN', '-Infinity', '9223372036854775808', 't',
    ];
    const oids = [...BUILTIN_TYPES.map((row) => row[0]), 16400, 16399, 16410, 16411, 16412, 16420, 16430, 99999];
    for (const oid of oids) {
      const convert = registry.converter(oid);
      const texts = [...samples];
      for (const sample of samples) {
        for (let k = 0; k < 3; k++) {
          const at = Math.floor(random() * (sample.length + 1));
          texts.push(sample.slice(0, at), sample.slice(at), sample.slice(0, at) + randomText(3, random) + sample.slice(at));
        }
      }
      for (let k = 0; k < 40; k++) texts.push(randomText(Math.floor(random() * 30), random));
      // json/jsonb text is trusted to be JSON (PostgreSQL validated it on input); only check it does not throw.
      const trusted = oid === OID.json || oid === OID.jsonb || oid === OID._json || oid === OID._jsonb;
      for (const text of texts) {
        const json = goJsonValue(convert(text));
        if (!trusted) expect(() => JSON.parse(json)).not.toThrow();
      }
    }
  });
});
