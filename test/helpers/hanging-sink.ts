/** A sink whose writes never complete: a stuck downstream, for shutdown-timeout tests. */
import { defineSection } from '../../src/config/fields.ts';
import { defineComponentType } from '../../src/component/type.ts';
import type { Sink } from '../../src/sinks/sink.ts';

export const hangingSinkType = defineComponentType({
  type: 'hanging',
  componentType: 'Sink-Hanging',
  options: defineSection({}),
  async create(name): Promise<Sink> {
    return {
      name,
      type: 'Sink-Hanging',
      write: () => new Promise<void>(() => {}),
      close: async () => {},
      stats: () => 'stuck',
      status: () => null,
      setDebug: () => {},
    };
  },
});
