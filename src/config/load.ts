/**
 * The I/O edge of configuration: reads the file, parses TOML, validates; throws one ConfigError.
 * The component types are the caller's (`src/components.ts` binds the registered ones).
 */
import { extname } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { describeError } from '../core/errors.ts';
import type { Env } from './coerce.ts';
import type { ComponentSpec, ComponentSpecs } from './component-spec.ts';
import { parseConfig } from './parse.ts';
import { ConfigError, type ConfigProblem } from './problems.ts';
import type { Config } from './schema.ts';
import { utf8Problem } from './utf8.ts';

export { ConfigError } from './problems.ts';

const OTHER_FORMATS = new Set(['.json', '.yaml', '.yml', '.properties', '.props', '.prop', '.hcl', '.env', '.dotenv', '.ini']);

const fileProblem = (file: string, message: string): ConfigProblem => ({ file, path: '', message });

/** The first line of a smol-toml error, without its "Invalid TOML document:" prefix and code excerpt. */
function tomlMessage(err: TomlError): string {
  const first = err.message.split('\n')[0] ?? err.message;
  return first.replace(/^Invalid TOML document:\s*/, '');
}

/** Parses TOML text into a Config, or throws a ConfigError listing every problem. Pure apart from `env`. */
export function configFromText<Src extends ComponentSpec, Snk extends ComponentSpec>(
  file: string, text: string, types: ComponentSpecs<Src, Snk>, env: Env = process.env,
): Config<Src, Snk> {
  let raw: unknown;
  try {
    // Integers as bigint: a float given for an integer key can be told apart, and LSNs keep every digit.
    raw = parseToml(text, { integersAsBigInt: true });
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError([{ file, line: err.line, column: err.column, path: '', message: `invalid TOML: ${tomlMessage(err)}` }]);
    }
    throw new ConfigError([fileProblem(file, `invalid TOML: ${describeError(err)}`)]);
  }
  const result = parseConfig(raw, { file, text, env, types });
  if ('errors' in result) throw new ConfigError(result.errors);
  return result.config;
}

/** Reads and validates the TOML config `file`. Throws a ConfigError naming every problem. */
export async function loadConfig<Src extends ComponentSpec, Snk extends ComponentSpec>(
  file: string, types: ComponentSpecs<Src, Snk>, env: Env = process.env,
): Promise<Config<Src, Snk>> {
  const extension = extname(file).toLowerCase();
  if (extension !== '.toml') {
    const why = OTHER_FORMATS.has(extension)
      ? `${extension.slice(1).toUpperCase()} configuration files are not supported: only TOML is (the original also read other formats); convert the file to TOML`
      : 'expected a TOML file name ending in .toml';
    throw new ConfigError([fileProblem(file, why)]);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Bun.file(file).bytes();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory, not a file' : describeError(err);
    throw new ConfigError([fileProblem(file, `cannot read the configuration file: ${why}`)]);
  }
  const invalid = utf8Problem(bytes);
  if (invalid !== undefined) throw new ConfigError([fileProblem(file, invalid)]);
  return configFromText(file, new TextDecoder().decode(bytes), types, env);
}
