#!/usr/bin/env bun
/**
 * Entry point. The JavaScript engine's memory settings come first (docs/deploy.md, "Memory"): they
 * are read when the runtime starts, so the process may replace itself (same pid) to have them, and
 * this module loads nothing else before that. Then the Kafka library's checksum helpers are replaced
 * before anything loads the library (src/kafka/library/checksum-modules.ts), then the command line
 * (command-main.ts).
 */
import { applyEngineDefaults } from './core/engine-settings.ts';
import { kafkaHelpersRuntimePlugin } from './kafka/library/checksum-modules.ts';

applyEngineDefaults();
Bun.plugin(kafkaHelpersRuntimePlugin);
const { main } = await import('./command-main.ts');
process.exit(await main(process.argv.slice(2)));
