import type { SectionSpec } from '../config/fields.ts';
import type { ComponentType } from '../core/component-type.ts';
import type { Source } from './source.ts';
import { postgresSourceType } from './postgres/spec.ts';
import { kafkaSourceType } from './kafka/spec.ts';

/** Every source type, by its config `type`. */
export const sourceTypes: Readonly<Record<string, ComponentType<SectionSpec, Source>>> = {
  postgres: postgresSourceType,
  kafka: kafkaSourceType,
};
