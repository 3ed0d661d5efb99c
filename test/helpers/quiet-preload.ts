/** Preloaded into every `bun test` process by bunfig.toml: quiet output (quiet.ts, docs/testing.md "Quiet output"). */
import { installQuietTests } from './quiet.ts';

installQuietTests();
