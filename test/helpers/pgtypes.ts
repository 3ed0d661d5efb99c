/** Shared helpers of the type conversion unit tests. */
import { goJsonValue } from '../../src/event/go-json.ts';
import type { ColumnValue } from '../../src/event/event.ts';
import { TypeRegistry } from '../../src/pgtypes/registry.ts';

/** A problem reported by a registry's onProblem. */
export interface Problem {
  oid: number;
  text: string;
  why: string;
}

/** A registry that records its problems. */
export function recordingRegistry(): { registry: TypeRegistry; problems: Problem[] } {
  const problems: Problem[] = [];
  const registry = new TypeRegistry({ onProblem: (oid, text, why) => problems.push({ oid, text, why }) });
  return { registry, problems };
}

/** Converts with a fresh registry and returns the value and its JSON (as the event carries it). */
export function convert(oid: number, text: string, registry = new TypeRegistry()): { value: ColumnValue; json: string } {
  const value = registry.converter(oid)(text);
  return { value, json: goJsonValue(value) };
}

/** The JSON of one converted value. */
export function jsonOf(oid: number, text: string, registry?: TypeRegistry): string {
  return convert(oid, text, registry).json;
}
