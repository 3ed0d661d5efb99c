import type { SectionSpec } from '../config/fields.ts';
import type { ComponentType } from '../core/component-type.ts';
import type { Sink } from './sink.ts';
import { stubLogSinkType, stubDiscardSinkType } from './stub.ts';
import { fileSinkType } from './file/file.ts';
import { kafkaSinkType } from './kafka/spec.ts';

/** Every sink type, by its config `type`. Adding a sink: one file exporting a type, one line here. */
export const sinkTypes: Readonly<Record<string, ComponentType<SectionSpec, Sink>>> = {
  kafka: kafkaSinkType,
  stub_log: stubLogSinkType,
  stub_discard: stubDiscardSinkType,
  file: fileSinkType,
};
