import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aCommand, assertInert, assertMessageWithinLimits, EVIL } from './block-kit.test-kit.ts';
import { helpReply } from './help-blocks.ts';

const json = (v: unknown) => JSON.stringify(v);
const status = aCommand({
  id: 'status',
  class: 'read-only',
  description: 'Shows the running version.',
  params: [],
  rollback: undefined,
});

describe('help reply', () => {
  it('lists only the commands given, each with its usage, and the built-ins', () => {
    const reply = helpReply([aCommand(), status]);
    assertMessageWithinLimits(reply);
    const text = json(reply);
    assert.ok(text.includes('*deploy* (mutating) — Deploys a released version.'));
    assert.ok(
      text.includes(
        '`/ops deploy &lt;service&gt; &lt;environment&gt; version=&lt;semver&gt; [secret=&lt;text&gt;] ticket=…|incident=…|pr=… [reason=\\"…\\"]`',
      ),
    );
    assert.ok(text.includes('*status* (read-only)'));
    for (const builtIn of [
      '/ops help [command]',
      '/ops approve &lt;request-id&gt;',
      '/ops deny &lt;request-id&gt; reason=\\"…\\"',
      '/ops cancel &lt;request-id&gt;',
    ]) {
      assert.ok(text.includes(`\`${builtIn}\``), builtIn);
    }
    assert.match(reply.text, /^Commands you may run: deploy, status$/);
  });

  it('mentions no command it was not given', () => {
    const text = json(helpReply([status]));
    assert.ok(text.includes('*status*'));
    assert.ok(!text.includes('deploy'));
  });

  it('with no command open to the asker, says so and still lists the built-ins', () => {
    const text = json(helpReply([]));
    assert.ok(text.includes('No catalog command is open to you here.'));
    assert.ok(text.includes('/ops help [command]'));
  });

  it('help <command> shows usage, parameters, class and rollback', () => {
    const c = aCommand({
      class: 'destructive',
      params: [
        {
          name: 'feature_flag',
          type: 'enum',
          values: ['on', 'off'],
          required: true,
          sensitive: false,
          description: 'which way',
        },
        { name: 'token', type: 'string', required: false, sensitive: true, maxLength: 64 },
        { name: 'replicas', type: 'integer', required: false, sensitive: false, min: 1, max: 20 },
      ],
      rollback: { none: 'nothing to undo' },
    });
    const reply = helpReply([c], c);
    assertMessageWithinLimits(reply);
    const text = json(reply);
    for (const s of [
      '/ops deploy',
      '*Usage*\\n```\\n/ops deploy &lt;service&gt; &lt;environment&gt; feature_flag=&lt;on|off&gt;',
      'feature_flag (enum; required; one of on, off) — which way',
      'token (string; optional; at most 64 characters; sensitive: masked everywhere)',
      'replicas (integer; optional; from 1 to 20)',
      'destructive: needs a link, approval by policy and the target typed out by each approver',
      '*Rollback*\\nnone: nothing to undo',
      '*Timeout*\\n60 s',
    ]) {
      assert.ok(text.includes(s), `${s} in ${text}`);
    }
    assert.ok(json(helpReply([status], status)).includes('*Rollback*\\nnot needed'));
  });

  it('§8.49 hundreds of commands stay within 50 blocks and end "and N more"', () => {
    const commands = Array.from({ length: 500 }, (_, i) =>
      aCommand({ id: `command-${i}`, description: 'd'.repeat(500) }),
    );
    const reply = helpReply(commands);
    assertMessageWithinLimits(reply);
    assert.match(json(reply), /and \d+ more; try `\/ops help &lt;command&gt;`/);
  });

  it('§8.46 §8.47 §8.48 hostile catalog text renders inert', () => {
    const c = aCommand({
      id: EVIL,
      description: EVIL,
      params: [
        {
          name: EVIL,
          type: 'string',
          required: true,
          sensitive: false,
          description: EVIL,
          pattern: EVIL,
        },
      ],
      rollback: { none: EVIL },
    });
    for (const reply of [helpReply([c, c]), helpReply([c], c)]) {
      assertInert(reply);
      assertMessageWithinLimits(reply);
    }
  });
});
