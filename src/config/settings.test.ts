import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { parseSettings, SettingsError } from './settings.ts';

describe('settings', () => {
  it('has the documented defaults', () => {
    const s = parseSettings({}, '/srv/cs');
    assert.equal(s.port, 8080);
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.configDir, '/srv/cs/examples/demo');
    assert.equal(s.dataDir, '/srv/cs/data');
    assert.equal(s.databaseUrl, undefined);
    assert.ok(Object.isFrozen(s));
  });

  it('names the variable with a bad value', () => {
    assert.throws(
      () => parseSettings({ PORT: 'eighty' }, '/'),
      (e: unknown) => {
        assert.ok(e instanceof SettingsError);
        assert.match(e.message, /PORT/);
        return true;
      },
    );
    assert.throws(() => parseSettings({ DATABASE_URL: 'mysql://x' }, '/'), /DATABASE_URL/);
    assert.throws(() => parseSettings({ SLACK_API_URL: 'ftp://x' }, '/'), /SLACK_API_URL/);
    assert.throws(() => parseSettings({ LOG_LEVEL: 'loud' }, '/'), /LOG_LEVEL/);
  });

  it('selects PostgreSQL only for a postgres URL', () => {
    assert.equal(
      parseSettings({ DATABASE_URL: 'postgres://u@h/db' }, '/').databaseUrl,
      'postgres://u@h/db',
    );
  });

  it('keeps secrets out of strings, JSON and inspection', () => {
    const s = parseSettings(
      { SLACK_SIGNING_SECRET: 'shh-very-secret', COUNTERSIGN_INGEST_TOKEN: 'tok-123456' },
      '/',
    );
    const shown = `${JSON.stringify(s)} ${String(s.slack.signingSecret)} ${inspect(s, { depth: 5 })}`;
    assert.doesNotMatch(shown, /shh-very-secret|tok-123456/);
    assert.equal(s.slack.signingSecret?.reveal(), 'shh-very-secret');
  });
});
