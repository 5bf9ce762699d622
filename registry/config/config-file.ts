import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ConfigError } from './config-error.ts';
import { describeIssues } from './issue.ts';
import { configFileSchema, type ConfigFile } from './schema.ts';

/** Checks what a config file holds (or `{}` for none) against the schema, and fills in the defaults. */
export function parseConfigFile(content: unknown, path: string): ConfigFile {
  const parsed = configFileSchema.safeParse(content, { reportInput: true });
  if (!parsed.success) throw new ConfigError(`config file ${path}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** Reads and checks the YAML config file; any problem is a ConfigError of one line naming the file. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let content: unknown;
  try {
    content = parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseConfigFile(content, path);
}
