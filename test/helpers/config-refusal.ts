import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { ConfigError } from '../../registry/config/serve-config.ts';

/** The message a config file with `content` is refused with; fails the test if it is taken. */
export function refusal(content: string): string {
  try {
    parseConfigFile(parse(content), 'berth.yml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail(`accepted:\n${content}`);
}
