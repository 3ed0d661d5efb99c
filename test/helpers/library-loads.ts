/**
 * Which files of @platformatic/kafka a module loads: `bun test/helpers/library-loads.ts MODULE`
 * imports MODULE (a path) with a resolver hook that records every library file that imports
 * another, and prints them (paths under the package's dist/, one JSON array). Run in its own
 * process, so that nothing loaded before counts. Used by test/unit/kafka/library.test.ts.
 */
import { resolve } from 'node:path';

const DIST = '/@platformatic/kafka/dist/';
const loaded = new Set<string>();
Bun.plugin({
  name: 'library-loads',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const at = args.importer.indexOf(DIST);
      if (at >= 0) loaded.add(args.importer.slice(at + DIST.length));
      if (args.path.includes('@platformatic/kafka') && !args.path.includes(DIST)) loaded.add(`(package) ${args.path}`);
      return undefined;
    });
  },
});

const module = process.argv[2];
if (module === undefined) throw new Error('usage: bun test/helpers/library-loads.ts MODULE');
await import(resolve(module));
console.log(JSON.stringify([...loaded].sort()));
