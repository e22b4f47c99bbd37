import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ParamSpec } from './catalog.ts';
import {
  boundOutput,
  REDACTED,
  REDACTION_RULES,
  redact,
  redactAndBound,
  sensitiveValuesOf,
  utf8Length,
} from './redact.ts';

/** Asserts that `secret` is gone from the redacted `text` and a redaction marker is there. */
function assertHidden(text: string, secret: string, sensitive: readonly string[] = []): string {
  const out = redact(text, sensitive);
  assert.ok(!out.includes(secret), `secret still visible in: ${out}`);
  assert.ok(out.includes(REDACTED), `no marker in: ${out}`);
  return out;
}

describe('§8.51 secrets in command output are redacted', () => {
  test('§8.51 AWS access key ids (AKIA and ASIA)', () => {
    assertHidden('key AKIAIOSFODNN7EXAMPLE used', 'AKIAIOSFODNN7EXAMPLE');
    assertHidden('{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A"}', 'ASIAY34FZKBOKMUTVV7A');
  });

  test('§8.51 aws_secret_access_key, env style and JSON style, keeping the key', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    assert.equal(
      redact(`aws_secret_access_key = ${secret}`, []),
      `aws_secret_access_key = ${REDACTED}`,
    );
    assert.equal(
      redact(`AWS_SECRET_ACCESS_KEY=${secret}`, []),
      `AWS_SECRET_ACCESS_KEY=${REDACTED}`,
    );
    assert.equal(
      redact(`{"SecretAccessKey":"${secret}","SessionToken":"IQoJb3JpZ2luX2VjEJr"}`, []),
      `{"SecretAccessKey":"${REDACTED}","SessionToken":"${REDACTED}"}`,
    );
  });

  test('§8.51 Slack tokens: xoxb, xoxp, xoxa, xoxs, xapp', () => {
    for (const token of [
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'xoxp-123456789012-123456789012-123456789012-0123456789abcdef0123456789abcdef',
      'xoxa-2-123456789012-abcdefabcdef',
      'xoxs-123456789012-abcdefabcdef',
      'xapp-1-A0123456789-1234567890123-abcdef0123456789',
    ]) {
      assertHidden(`token was ${token}.`, token);
    }
  });

  test('§8.51 Slack webhook URLs', () => {
    const url = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
    assert.equal(redact(`posting to ${url} now`, []), `posting to ${REDACTED} now`);
  });

  test('§8.51 private key blocks, whole, including an unterminated one', () => {
    const block = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB',
      'aFDrBz9vFqU4yQ==',
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    assert.equal(redact(`before\n${block}\nafter`, []), `before\n${REDACTED}\nafter`);
    assert.equal(redact('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg', []), REDACTED);
    assertHidden('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n', 'b3BlbnNzaC1rZXk');
  });

  test('§8.51 JWTs', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    assert.equal(redact(`id_token ${jwt} ok`, []), `id_token ${REDACTED} ok`);
  });

  test('§8.51 password=, passwd:, secret=, token=, api_key= keep the key', () => {
    assert.equal(redact('password=hunter2 user=bob', []), `password=${REDACTED} user=bob`);
    assert.equal(redact('passwd: s3cr3t', []), `passwd: ${REDACTED}`);
    assert.equal(redact('secret=abc&x=1', []), `secret=${REDACTED}&x=1`);
    assert.equal(redact('TOKEN=abc123', []), `TOKEN=${REDACTED}`);
    assert.equal(redact('api_key: "k-123 456"', []), `api_key: "${REDACTED}"`);
    assert.equal(redact("DB_PASSWORD='p a s s'", []), `DB_PASSWORD='${REDACTED}'`);
    assert.equal(
      redact('{"password":"with \\"quote\\"","n":1}', []),
      `{"password":"${REDACTED}","n":1}`,
    );
    assert.equal(redact('x-api-key: 0123abcd', []), `x-api-key: ${REDACTED}`);
  });

  test('§8.51 AWS Secrets Manager SecretString', () => {
    const out = redact('{"Name":"db","SecretString":"{\\"user\\":\\"u\\",\\"pw\\":\\"p\\"}"}', []);
    assert.equal(out, `{"Name":"db","SecretString":"${REDACTED}"}`);
  });

  test('§8.51 Bearer tokens in Authorization headers', () => {
    assert.equal(
      redact('Authorization: Bearer abc.def-ghi_jkl', []),
      `Authorization: Bearer ${REDACTED}`,
    );
    assert.equal(
      redact('{"authorization":"Basic dXNlcjpwYXNz"}', []),
      `{"authorization":"Basic ${REDACTED}"}`,
    );
    assert.equal(
      redact('curl -H "X: y" bearer 0123456789abcdef0123', []),
      `curl -H "X: y" bearer ${REDACTED}`,
    );
  });

  test('§8.51 GitHub tokens', () => {
    assertHidden(
      'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
      'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
    );
    assertHidden(
      'gho_16C7e42F292c6912E7710c838347Ae178B4a',
      'gho_16C7e42F292c6912E7710c838347Ae178B4a',
    );
    const pat = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789';
    assertHidden(`remote uses ${pat}`, pat);
  });

  test('§8.51 our own API tokens (cs_)', () => {
    assertHidden('use cs_Zm9vYmFyYmF6cXV4 to log in', 'cs_Zm9vYmFyYmF6cXV4');
    assert.equal(redact('cs_short', []), 'cs_short');
  });

  test('§8.51 declared sensitive parameter values, also JSON-escaped and URL-encoded', () => {
    assert.equal(
      redact('connected with opensesame; again opensesame', ['opensesame']),
      `connected with ${REDACTED}; again ${REDACTED}`,
    );
    assert.equal(redact('{"v":"a\\"b c"}', ['a"b c']), `{"v":"${REDACTED}"}`);
    assert.equal(redact('GET /?q=p%40ss%20w', ['p@ss w']), `GET /?q=${REDACTED}`);
    // The longer value wins when one contains another.
    assert.equal(redact('abcdefgh', ['abcd', 'abcdefgh']), REDACTED);
  });

  test('§8.51 sensitive values shorter than 4 characters are not matched exactly', () => {
    assert.equal(redact('version 1.4.2 on port 443', ['443', 'on']), 'version 1.4.2 on port 443');
  });

  test('§8.51 sensitiveValuesOf picks the declared sensitive parameters', () => {
    const spec = (name: string, sensitive: boolean): ParamSpec => ({
      name,
      type: 'string',
      required: false,
      sensitive,
    });
    const values = sensitiveValuesOf(
      [spec('version', false), spec('dbpass', true), spec('pin', true)],
      {
        version: '1.4.2',
        dbpass: 'hunter22',
        pin: 1234,
      },
    );
    assert.deepEqual(values, ['hunter22', '1234']);
  });

  test('§8.51 no false positives on ordinary output', () => {
    const ordinary = [
      'version=1.4.2 replicas=4 healthy=true',
      'deployed 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 to prod',
      'commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
      '{"version":"1.4.1","previousVersion":null,"replicas":4,"tokens_used":12}',
      'max_tokens=100 tokens=5 token_count=3',
      'Bearer of bad news; authorization pending',
      'arn:aws:lambda:eu-west-1:123456789012:function:deploy',
      'request REQ-01J9Z8Y7X6W5V4T3S2R1Q0P9N8 by U01ALICE',
      'docs_structure cs_x',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ];
    for (const line of ordinary) assert.equal(redact(line, []), line);
  });

  test('§8.51 hostile output cannot make redaction slow (linear time)', () => {
    for (const text of [
      'a-'.repeat(50_000),
      'eyJa-'.repeat(20_000),
      'a.b'.repeat(40_000),
      `password="${'\\a'.repeat(50_000)}`,
      '-----BEGIN RSA PRIVATE KEY-----'.repeat(3_000),
      'authorization: '.repeat(6_000),
    ]) {
      const started = performance.now();
      redact(text, ['abcd']);
      const ms = performance.now() - started;
      assert.ok(ms < 500, `${ms} ms for ${text.slice(0, 20)}…`);
    }
  });

  test('§8.51 redaction is idempotent', () => {
    const text =
      'Authorization: Bearer abcdefghijklmnop password=x AKIAIOSFODNN7EXAMPLE {"token":"t0k3n"}';
    const once = redact(text, []);
    assert.equal(redact(once, []), once);
  });

  test('§8.51 every rule has a test above', () => {
    assert.deepEqual(REDACTION_RULES, [
      'private-key-block',
      'authorization-header',
      'slack-webhook-url',
      'slack-token',
      'aws-access-key-id',
      'github-token',
      'countersign-api-token',
      'jwt',
      'bearer-token',
      'secret-key-value',
    ]);
  });
});

describe('§8.51 output is size-bounded after redaction', () => {
  test('text that fits is unchanged', () => {
    assert.deepEqual(boundOutput('héllo', 6), {
      text: 'héllo',
      truncated: false,
      originalBytes: 6,
    });
  });

  test('cuts on a UTF-8 boundary and says how much was dropped', () => {
    const text = 'é'.repeat(100); // 200 bytes
    const r = boundOutput(text, 80);
    assert.equal(r.truncated, true);
    assert.equal(r.originalBytes, 200);
    assert.ok(utf8Length(r.text) <= 80, `${utf8Length(r.text)} bytes`);
    const kept = r.text.slice(0, r.text.indexOf('\n…'));
    assert.match(kept, /^é+$/);
    assert.ok(r.text.endsWith(`[truncated: ${200 - utf8Length(kept)} bytes more]`));
  });

  test('never splits a surrogate pair (4-byte emoji)', () => {
    const text = '😀'.repeat(50); // 200 bytes
    for (let max = 40; max < 60; max++) {
      const r = boundOutput(text, max);
      const kept = r.text.slice(0, r.text.indexOf('\n…'));
      assert.ok(kept.length % 2 === 0 && /^(?:😀)*$/u.test(kept), `max ${max}: ${kept}`);
      assert.ok(utf8Length(r.text) <= max);
    }
  });

  test('tokenSafe moves the cut back to a delimiter', () => {
    const text = `aaaa ${'x'.repeat(200)}`;
    const r = boundOutput(text, 100, { tokenSafe: true });
    assert.ok(r.text.startsWith('aaaa \n…'), r.text);
  });

  test('§8.51 a secret straddling the limit is never partly shown (redact before bound)', () => {
    const key = 'AKIAIOSFODNN7EXAMPLE';
    const text = `${'a'.repeat(60)} ${key} ${'b'.repeat(60)}`;
    for (let max = 60; max < 120; max += 3) {
      const r = redactAndBound(text, [], max);
      assert.ok(!r.text.includes('AKIA'), `max ${max}: ${r.text}`);
      assert.ok(!r.text.includes('IOSFODNN'), `max ${max}: ${r.text}`);
    }
  });

  test('a 1 MB output is cut to the bound quickly', () => {
    const text = 'line of output\n'.repeat(70_000);
    const started = performance.now();
    const r = redactAndBound(text, [], 65_536);
    assert.ok(performance.now() - started < 1000);
    assert.ok(utf8Length(r.text) <= 65_536);
    assert.equal(r.originalBytes, 1_050_000);
  });
});
