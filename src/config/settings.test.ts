import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { isLoopbackHost, parseSettings, SettingsError } from './settings.ts';

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

  it('SLACK_APP_TOKEN: an xapp- token turns on Socket Mode; anything else is refused by name', () => {
    const token = 'xapp-1-A0COUNTER-1700000000000-0123456789abcdef';
    const s = parseSettings({ SLACK_APP_TOKEN: token, SLACK_BOT_TOKEN: 'xoxb-1-2-3' }, '/');
    assert.equal(s.slack.appToken?.reveal(), token);
    assert.equal(s.slack.signingSecret, undefined, 'no signing secret is needed');
    const shown = `${JSON.stringify(s)} ${inspect(s, { depth: 5 })}`;
    assert.doesNotMatch(shown, /0123456789abcdef/);
    assert.equal(parseSettings({}, '/').slack.appToken, undefined);
    for (const bad of [
      'xoxb-123-456-abcdef',
      'xapp-1',
      ' xapp-1-A0COUNTER-1-ab',
      'xapp-1-A0C\nX-1',
    ]) {
      assert.throws(
        () => parseSettings({ SLACK_APP_TOKEN: bad, SLACK_BOT_TOKEN: 'xoxb-1' }, '/'),
        (e: unknown) => {
          assert.ok(e instanceof SettingsError);
          assert.match(e.message, /SLACK_APP_TOKEN: must be an app-level token \(xapp-/);
          assert.ok(!e.message.includes(bad), 'the value itself is not echoed');
          return true;
        },
        bad,
      );
    }
    assert.throws(() => parseSettings({ SLACK_APP_TOKEN: token }, '/'), /needs SLACK_BOT_TOKEN/);
  });

  it('console sessions last 12 hours unless COUNTERSIGN_SESSION_HOURS says otherwise', () => {
    assert.equal(parseSettings({}, '/').sessionTtlMs, 12 * 3_600_000);
    assert.equal(parseSettings({ COUNTERSIGN_SESSION_HOURS: '1' }, '/').sessionTtlMs, 3_600_000);
    assert.throws(() => parseSettings({ COUNTERSIGN_SESSION_HOURS: '0' }, '/'), /SESSION_HOURS/);
  });

  it('an unused console session ends after 60 minutes unless COUNTERSIGN_SESSION_IDLE_MINUTES says otherwise', () => {
    assert.equal(parseSettings({}, '/').sessionIdleMs, 60 * 60_000);
    const s = parseSettings({ COUNTERSIGN_SESSION_IDLE_MINUTES: '15' }, '/');
    assert.equal(s.sessionIdleMs, 15 * 60_000);
    for (const bad of ['0', '-5', '1.5', 'soon', '10081']) {
      assert.throws(
        () => parseSettings({ COUNTERSIGN_SESSION_IDLE_MINUTES: bad }, '/'),
        /COUNTERSIGN_SESSION_IDLE_MINUTES/,
        bad,
      );
    }
  });

  const OIDC = {
    COUNTERSIGN_OIDC_ISSUER: 'https://login.example.com/realms/ops',
    COUNTERSIGN_OIDC_CLIENT_ID: 'countersign',
    COUNTERSIGN_OIDC_CLIENT_SECRET: 'oidc-client-secret-value',
    COUNTERSIGN_PUBLIC_URL: 'https://ops.example.com/',
  };

  it('OIDC: off by default; on with issuer, client and secret; redirect from the public URL', () => {
    assert.equal(parseSettings({}, '/').oidc, undefined);
    const s = parseSettings(OIDC, '/');
    assert.equal(s.oidc?.issuer, OIDC.COUNTERSIGN_OIDC_ISSUER);
    assert.equal(s.oidc?.clientId, 'countersign');
    assert.equal(s.oidc?.redirectUrl, 'https://ops.example.com/auth/callback');
    assert.equal(s.oidc?.groupsClaim, undefined);
    const own = parseSettings(
      {
        ...OIDC,
        COUNTERSIGN_OIDC_REDIRECT_URL: 'https://ops.example.com/cb',
        COUNTERSIGN_OIDC_GROUPS_CLAIM: 'groups',
      },
      '/',
    );
    assert.equal(own.oidc?.redirectUrl, 'https://ops.example.com/cb');
    assert.equal(own.oidc?.groupsClaim, 'groups');
  });

  it('OIDC: the client secret never shows in strings, JSON or inspection', () => {
    const s = parseSettings(OIDC, '/');
    const shown = `${JSON.stringify(s)} ${inspect(s, { depth: 5 })} ${String(s.oidc?.clientSecret)}`;
    assert.doesNotMatch(shown, /oidc-client-secret-value/);
    assert.equal(s.oidc?.clientSecret.reveal(), 'oidc-client-secret-value');
  });

  it('OIDC: all three or none, https unless the provider is on loopback, a redirect URL', () => {
    const { COUNTERSIGN_OIDC_CLIENT_SECRET: _, ...noSecret } = OIDC;
    assert.throws(() => parseSettings(noSecret, '/'), /go together/);
    assert.throws(
      () => parseSettings({ ...OIDC, COUNTERSIGN_OIDC_ISSUER: 'http://idp.example.com' }, '/'),
      /must be https/,
    );
    const local = parseSettings({ ...OIDC, COUNTERSIGN_OIDC_ISSUER: 'http://127.0.0.1:9000' }, '/');
    assert.equal(local.oidc?.issuer, 'http://127.0.0.1:9000');
    const { COUNTERSIGN_PUBLIC_URL: __, ...noPublic } = OIDC;
    assert.throws(() => parseSettings(noPublic, '/'), /COUNTERSIGN_OIDC_REDIRECT_URL/);
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '::1', 'localhost', 'LOCALHOST']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) assert.ok(!isLoopbackHost(h), h);
  });
});
