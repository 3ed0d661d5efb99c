#!/usr/bin/env bun
/**
 * Entry point. The JavaScript engine's memory settings come first (docs/deploy.md, "Memory"): they
 * are read when the runtime starts, so the process may replace itself (same pid) to have them, and
 * this module loads nothing else before that. Then the command line (command-main.ts).
 */
import { applyEngineDefaults } from './core/engine-settings.ts';

applyEngineDefaults();
const { main } = await import('./command-main.ts');
process.exit(await main(process.argv.slice(2)));
