import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { toUiSettings } from '../../registry/config/ui-schema.ts';

describe('the ui: section of the config file (README "Web interface")', () => {
  it('is on by default, refreshing the background figures every five minutes', () => {
    assert.deepEqual(toUiSettings(parseConfigFile({}, 'none').ui), { enabled: true, refreshMs: 5 * 60_000 });
  });

  it('takes enabled and a refresh duration', () => {
    assert.deepEqual(toUiSettings(parseConfigFile({ ui: { enabled: false, refresh: '30s' } }, 'berth.yml').ui), { enabled: false, refreshMs: 30_000 });
  });

  it('refuses a value it does not know, naming the key', () => {
    assert.throws(() => parseConfigFile({ ui: { enabled: 'no' } }, 'berth.yml'), /ui\.enabled.*true or false/);
    assert.throws(() => parseConfigFile({ ui: { refresh: 'soon' } }, 'berth.yml'), /ui\.refresh.*duration/);
    assert.throws(() => parseConfigFile({ ui: { enable: true } }, 'berth.yml'), /did you mean "ui\.enabled"/);
  });
});
