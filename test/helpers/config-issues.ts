/** The problems a config text is refused with (fails the test when it is accepted). */
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';

export function configIssues(text: string, baseDir = '/etc/popgate'): string[] {
  try {
    parseConfig(text, baseDir);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.issues];
  }
  assert.fail('expected a ConfigError');
}
