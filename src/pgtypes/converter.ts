/**
 * The shape of a type conversion: pgoutput sends every column as the type's text output, and a
 * Converter turns that text into the event's column value (docs/types.md).
 */
import type { ColumnValue } from '../event/event.ts';

/** Converts one column's text to a ColumnValue; never throws (a bad value comes back as its text). */
export type Converter = (text: string) => ColumnValue;

/**
 * What a converter calls when the text is not what the type's output function prints: it reports
 * the problem and returns the value to use instead (the text itself, as a string).
 */
export type Fail = (text: string, why: string) => ColumnValue;

/** Builds the converter of one type, given how to report a bad value of that type. */
export type ConverterFactory = (fail: Fail) => Converter;

/** The identity conversion: the text as a JSON string (text types, uuid, numeric, and every type kept as text). */
export const asText: Converter = (text) => text;
