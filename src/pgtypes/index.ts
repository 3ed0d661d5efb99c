/** Type conversion: PostgreSQL text values (as pgoutput sends them) → event column values. */
export { TypeRegistry, type Converter, type TypeInfo, type TypeRegistryOptions } from './registry.ts';
export { TYPE_LOOKUP_SQL, parseTypeLookupRow, typeLookupSql } from './lookup.ts';
export { OID } from './oids.ts';
