import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, ParamSpec, ParamType } from './catalog.ts';
import type { DomainError } from './errors.ts';
import { parseCommandText } from './grammar.ts';
import {
  compileParamPattern,
  findForbiddenCharacter,
  helpLine,
  specialValueProblem,
  usageFor,
  validateParams,
} from './params.ts';
import type { ParamValue } from './request-model.ts';

function param(name: string, type: ParamType, extra: Partial<ParamSpec> = {}): ParamSpec {
  return { name, type, required: false, sensitive: false, ...extra };
}

function command(params: ParamSpec[], extra: Partial<Command> = {}): Command {
  return {
    id: 'deploy',
    team: 'payments',
    description: 'Deploy a build',
    class: 'mutating',
    params,
    handler: { kind: 'lambda-module', module: 'handlers/deploy.mjs', export: 'handler' },
    rollback: { command: 'rollback' },
    timeoutSeconds: 60,
    idempotent: false,
    confirmations: [],
    output: 'channel',
    ...extra,
  };
}

function accepted(cmd: Command, raw: Record<string, string>): Record<string, ParamValue> {
  const r = validateParams(cmd, raw);
  if (!r.ok) assert.fail(`${JSON.stringify(raw)} was refused: ${r.error.message}`);
  return r.value;
}

function refused(cmd: Command, raw: Record<string, string>): DomainError {
  const r = validateParams(cmd, raw);
  if (r.ok) assert.fail(`${JSON.stringify(raw)} was accepted: ${JSON.stringify(r.value)}`);
  assert.equal(r.error.code, 'INVALID_PARAMETER');
  assert.equal(r.error.details.usage, usageFor(cmd));
  return r.error;
}

/** Checks one value of one parameter: the typed value, or the refusal message. */
function one(spec: ParamSpec, value: string): ParamValue | string {
  const r = validateParams(command([spec]), { [spec.name]: value });
  return r.ok ? (r.value[spec.name] as ParamValue) : `refused: ${r.error.message}`;
}

const deploy = command([
  param('version', 'semver', { required: true }),
  param('replicas', 'integer', { min: 1, max: 20 }),
  param('dry-run', 'boolean'),
  param('size', 'enum', { values: ['small', 'medium', 'large'] }),
  param('note', 'string'),
]);

describe('validateParams: names', () => {
  it('types every given parameter and leaves absent optional ones out', () => {
    assert.deepStrictEqual(
      accepted(deploy, {
        version: '1.4.2',
        replicas: '4',
        'dry-run': 'yes',
        size: 'small',
        note: 'hi',
      }),
      { version: '1.4.2', replicas: 4, 'dry-run': true, size: 'small', note: 'hi' },
    );
    assert.deepStrictEqual(accepted(deploy, { version: '1.4.2' }), { version: '1.4.2' });
  });

  it('refuses an unknown parameter, naming it and listing the accepted ones', () => {
    const e = refused(deploy, { version: '1.4.2', colour: 'red' });
    assert.equal(
      e.message,
      'unknown parameter colour for deploy; accepted: version, replicas, dry-run, size, note',
    );
    assert.deepEqual(e.details.accepted, ['version', 'replicas', 'dry-run', 'size', 'note']);
    assert.equal(e.details.parameter, 'colour');
  });

  it('suggests a near name for a typo', () => {
    assert.equal(
      refused(deploy, { versoin: '1.4.2' }).message,
      'unknown parameter versoin for deploy; accepted: version, replicas, dry-run, size, note; did you mean version?',
    );
  });

  it('says "accepted: none" for a command without parameters', () => {
    assert.equal(
      refused(command([]), { x: '1' }).message,
      'unknown parameter x for deploy; accepted: none',
    );
  });

  it('refuses a missing or empty required parameter, naming it', () => {
    assert.equal(
      refused(deploy, {}).message,
      'missing required parameter version for deploy (version=<semver>)',
    );
    assert.equal(
      refused(deploy, { version: '' }).message,
      'empty required parameter version for deploy (version=<semver>)',
    );
  });

  it('treats prototype names as unknown, not as inherited values', () => {
    const polluted = JSON.parse('{"__proto__": {"version": "1.4.2"}, "version": "1.4.2"}');
    assert.match(refused(deploy, polluted).message, /^unknown parameter __proto__ for deploy/);
    assert.match(refused(deploy, { constructor: 'x', version: '1.4.2' }).message, /constructor/);
    const bare = Object.create(null) as Record<string, string>;
    bare.version = '2.0.0';
    assert.deepStrictEqual(accepted(deploy, bare), { version: '2.0.0' });
  });

  it('refuses a value that is not text (a JSON body can send anything)', () => {
    const raw = { version: 1 } as unknown as Record<string, string>;
    assert.equal(refused(deploy, raw).message, 'version must be given as text');
  });
});

describe('validateParams: string', () => {
  const free = param('note', 'string');

  it('accepts up to 256 UTF-16 code units by default', () => {
    assert.equal(one(free, 'x'.repeat(256)), 'x'.repeat(256));
    assert.equal(one(free, 'x'.repeat(257)), 'refused: note is 257 characters; at most 256');
    assert.equal(one(free, '🚀'.repeat(129)), 'refused: note is 258 characters; at most 256');
  });

  it('honours maxLength', () => {
    const short = param('tag', 'string', { maxLength: 3 });
    assert.equal(one(short, 'abc'), 'abc');
    assert.equal(one(short, 'abcd'), 'refused: tag is 4 characters; at most 3');
  });

  it('matches a pattern against the whole value', () => {
    const branch = param('branch', 'string', { pattern: '[a-z0-9/-]+' });
    assert.equal(one(branch, 'feature/x-1'), 'feature/x-1');
    assert.equal(one(branch, 'Feature'), 'refused: branch must match [a-z0-9/-]+, got "Feature"');
    const either = param('mode', 'string', { pattern: 'a|b' });
    assert.equal(one(either, 'a'), 'a');
    assert.equal(one(either, 'ab'), 'refused: mode must match a|b, got "ab"');
    const inner = param('id', 'string', { pattern: 'b' });
    assert.equal(one(inner, 'abc'), 'refused: id must match b, got "abc"');
  });

  it('refuses, never crashes, when the catalog pattern does not compile', () => {
    for (const pattern of ['(', '[a-', '\\', 'a{2,1}', '(?<n>a)(?<n>b)', 'a)|(.*', '\\_']) {
      assert.equal(compileParamPattern(pattern), undefined, pattern);
      assert.equal(
        one(param('p', 'string', { pattern }), 'a'),
        'refused: p has a pattern in the catalog that does not compile; refusing',
      );
    }
  });

  it('compiles patterns anchored and in unicode mode', () => {
    assert.equal(compileParamPattern('.')?.test('🚀'), true);
    assert.equal(compileParamPattern('a')?.source, '^(?:a)$');
  });

  it('refuses control characters, even tab and newline, and bidi and lone surrogates', () => {
    assert.equal(
      one(free, 'a\nb'),
      'refused: note contains a control character U+000A at position 2',
    );
    assert.equal(
      one(free, 'a\tb'),
      'refused: note contains a control character U+0009 at position 2',
    );
    assert.equal(
      one(free, '\u001b[31m'),
      'refused: note contains a control character U+001B at position 1',
    );
    assert.equal(
      one(free, 'a\u0000'),
      'refused: note contains a NUL character U+0000 at position 2',
    );
    assert.equal(
      one(free, 'a\u202eb'),
      'refused: note contains a bidi control character U+202E at position 2',
    );
    assert.equal(
      one(free, '🚀\ud800'),
      'refused: note contains a lone surrogate U+D800 at position 2',
    );
  });

  it('keeps emoji and other text verbatim', () => {
    assert.equal(one(free, 'déploiement 👩‍💻 中文'), 'déploiement 👩‍💻 中文');
  });

  it('never echoes a sensitive value in a refusal', () => {
    const token = param('token', 'string', { pattern: '[a-f0-9]{8}', sensitive: true });
    const message = String(one(token, 'hunter2-secret'));
    assert.equal(message, 'refused: token must match [a-f0-9]{8}, got (a redacted value)');
    assert.ok(!message.includes('hunter2'));
  });
});

describe('validateParams: integer', () => {
  const n = param('replicas', 'integer');
  const bounded = param('replicas', 'integer', { min: 1, max: 20 });

  it('accepts decimal digits with an optional leading minus', () => {
    assert.equal(one(n, '42'), 42);
    assert.equal(one(n, '-7'), -7);
    assert.equal(one(n, '007'), 7);
    assert.equal(one(n, String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
    assert.equal(one(n, String(Number.MIN_SAFE_INTEGER)), Number.MIN_SAFE_INTEGER);
  });

  it('reads -0 as 0', () => {
    assert.ok(Object.is(one(n, '-0'), 0));
  });

  it('refuses anything but digits', () => {
    for (const v of [
      '4.5',
      '1e3',
      '+5',
      ' 5',
      '5 ',
      '0x10',
      '',
      '-',
      '٣',
      'Infinity',
      'NaN',
      '1_000',
    ]) {
      assert.equal(
        one(n, v),
        `refused: replicas must be a whole number (digits, optional leading -), got ${JSON.stringify(v)}`,
      );
    }
  });

  it('refuses numbers that are not safe integers', () => {
    assert.equal(
      one(n, '9007199254740993'),
      'refused: replicas is too large to hold exactly, got "9007199254740993"',
    );
    assert.match(String(one(n, '9'.repeat(300))), /must be a whole number/);
  });

  it('checks inclusive bounds', () => {
    assert.equal(one(bounded, '1'), 1);
    assert.equal(one(bounded, '20'), 20);
    assert.equal(one(bounded, '0'), 'refused: replicas must be at least 1, got "0"');
    assert.equal(one(bounded, '21'), 'refused: replicas must be at most 20, got "21"');
  });
});

describe('validateParams: boolean', () => {
  const b = param('dry-run', 'boolean');

  it('accepts true, false, yes and no, in any case', () => {
    assert.equal(one(b, 'true'), true);
    assert.equal(one(b, 'yes'), true);
    assert.equal(one(b, 'false'), false);
    assert.equal(one(b, 'no'), false);
    assert.equal(one(b, 'TRUE'), true);
    assert.equal(one(b, 'No'), false);
  });

  it('refuses anything else', () => {
    for (const v of ['1', '0', 'on', 'off', 'y', '', 'constructor', 'toString']) {
      assert.equal(
        one(b, v),
        `refused: dry-run must be true, false, yes or no, got ${JSON.stringify(v)}`,
      );
    }
  });
});

describe('validateParams: semver', () => {
  const v = param('version', 'semver');

  it('accepts strict SemVer 2.0.0 with prerelease and build', () => {
    for (const ok of [
      '1.4.2',
      '0.0.0',
      '10.20.30',
      '1.0.0-rc.1',
      '1.0.0-alpha+001',
      '1.0.0+20130313144700',
      '1.0.0-x.7.z.92',
      '1.0.0-0.3.7',
      '1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay',
      '99999999999999999999.0.0',
    ]) {
      assert.equal(one(v, ok), ok);
    }
  });

  it('refuses anything else', () => {
    for (const bad of [
      '1.4',
      '1',
      '01.2.3',
      '1.02.3',
      '1.2.3-',
      '1.2.3-01',
      '1.2.3+',
      '1.2.3.4',
      ' 1.2.3',
      '1.2.3-a..b',
      'latest',
      '',
    ]) {
      assert.equal(
        one(v, bad),
        `refused: version must be a semantic version like 1.4.2 or 2.0.0-rc.1, got ${JSON.stringify(bad)}`,
      );
    }
  });

  it('says to drop a leading v', () => {
    assert.equal(one(v, 'v1.4.2'), 'refused: version must not start with v: use 1.4.2 not v1.4.2');
    assert.equal(
      one(v, 'V2.0.0-rc.1'),
      'refused: version must not start with v: use 2.0.0-rc.1 not V2.0.0-rc.1',
    );
  });

  it('answers quickly on long hostile input', () => {
    const started = performance.now();
    one(v, `1.0.0-${'0'.repeat(3000)}!`);
    one(v, `v1.0.0-${'a.'.repeat(1500)}`);
    assert.ok(performance.now() - started < 50);
  });
});

describe('validateParams: enum', () => {
  const size = param('size', 'enum', { values: ['small', 'medium', 'large'] });

  it('accepts one of the values exactly', () => {
    assert.equal(one(size, 'medium'), 'medium');
    assert.equal(
      one(size, 'Medium'),
      'refused: size must be one of small, medium, large, got "Medium"',
    );
  });

  it('refuses when the catalog gives no values', () => {
    assert.equal(
      one(param('size', 'enum'), 'small'),
      'refused: size has no values in the catalog; refusing',
    );
  });
});

describe('validateParams: hostile values (§8.52)', () => {
  const hostile = [
    '; rm -rf /',
    '$(reboot)',
    '../../etc/passwd',
    'file:///etc/passwd',
    '`id`',
    'a && b',
    "' OR 1=1 --",
  ];
  const strict: ParamSpec[] = [
    param('version', 'semver'),
    param('replicas', 'integer'),
    param('size', 'enum', { values: ['small', 'large'] }),
    param('branch', 'string', { pattern: '[a-z0-9][a-z0-9._/-]*' }),
    param('path', 'string', { pattern: '[a-z0-9-]+(/[a-z0-9-]+)*' }),
    param('dry-run', 'boolean'),
  ];

  it('refuses them for every typed or patterned parameter', () => {
    for (const spec of strict) {
      for (const value of hostile) {
        const result = one(spec, value);
        assert.equal(typeof result, 'string', `${spec.name}=${value}`);
        assert.match(
          String(result),
          new RegExp(`^refused: ${spec.name} `),
          `${spec.name}=${value}`,
        );
      }
    }
  });

  it('keeps them verbatim, never interpreted, for a free string', () => {
    for (const value of hostile) assert.equal(one(param('note', 'string'), value), value);
  });

  it('keeps them verbatim from chat text through to typed params', () => {
    const parsed = parseCommandText(
      'deploy checkout prod version=1.4.2 note="; rm -rf /" ticket=CHG-1',
    );
    if (!parsed.ok || parsed.value.kind !== 'action') assert.fail('did not parse');
    assert.deepStrictEqual(accepted(deploy, parsed.value.params), {
      version: '1.4.2',
      note: '; rm -rf /',
    });
  });

  it('refuses v1.4.2 from chat text with the fix in the message', () => {
    const parsed = parseCommandText('deploy checkout prod version=v1.4.2 ticket=CHG-1');
    if (!parsed.ok || parsed.value.kind !== 'action') assert.fail('did not parse');
    assert.equal(
      refused(deploy, parsed.value.params).message,
      'version must not start with v: use 1.4.2 not v1.4.2',
    );
  });
});

describe('usageFor and helpLine', () => {
  it('renders the usage line with required and optional parameters', () => {
    assert.equal(
      usageFor(command([param('version', 'semver', { required: true })])),
      '/ops deploy <service> <environment> version=<semver> ticket=…|incident=…|pr=… [reason="…"]',
    );
    assert.equal(
      usageFor(deploy),
      '/ops deploy <service> <environment> version=<semver> [replicas=<1..20>] [dry-run=<true|false>] [size=<small|medium|large>] [note=<text>] ticket=…|incident=…|pr=… [reason="…"]',
    );
  });

  it('brackets links for read-only commands', () => {
    const status = command([param('lines', 'integer')], { id: 'tail-logs', class: 'read-only' });
    assert.equal(
      usageFor(status),
      '/ops tail-logs <service> <environment> [lines=<integer>] [ticket=…|incident=…|pr=…] [reason="…"]',
    );
  });

  it('gives one help line with class, description and usage', () => {
    assert.equal(
      helpLine(command([param('version', 'semver', { required: true })])),
      'deploy (mutating) — Deploy a build · /ops deploy <service> <environment> version=<semver> ticket=…|incident=…|pr=… [reason="…"]',
    );
  });
});

describe('findForbiddenCharacter', () => {
  it('allows tab and newline only as layout', () => {
    assert.equal(findForbiddenCharacter('a\tb\nc', true), undefined);
    assert.deepEqual(findForbiddenCharacter('a\tb', false), {
      position: 2,
      description: 'control character U+0009 at position 2',
    });
  });

  it('counts positions in code points and accepts well-formed pairs', () => {
    assert.equal(findForbiddenCharacter('🚀🚀🚀', false), undefined);
    assert.equal(findForbiddenCharacter('🚀🚀\u2066', false)?.position, 3);
    assert.equal(
      findForbiddenCharacter('\udc00\ud800', false)?.description,
      'lone surrogate U+DC00 at position 1',
    );
    assert.equal(
      findForbiddenCharacter('x\ud800', false)?.description,
      'lone surrogate U+D800 at position 2',
    );
  });

  it('leaves directional marks and zero-width joiners alone', () => {
    assert.equal(findForbiddenCharacter('a\u200eb\u200dc\u200b', false), undefined);
  });
});

describe('specialValueProblem', () => {
  it('accepts good links and reasons', () => {
    for (const [name, value] of [
      ['ticket', 'CHG-1'],
      ['ticket', 'OPS-42'],
      ['incident', 'INC-7'],
      ['pr', 'org/repo#12'],
      ['pr', '#12'],
      ['pr', 'https://github.com/org/repo/pull/12'],
      ['pr', 'https://git.example.com:8443/o/r/-/merge_requests/3'],
      ['reason', 'roll back 🚀'],
      ['note', ''],
    ] as const) {
      assert.equal(specialValueProblem(name, value), undefined, `${name}=${value}`);
    }
  });

  it('says what is wrong with a bad link', () => {
    assert.equal(
      specialValueProblem('pr', '#0'),
      'pr=#0 is not a pull request like org/repo#12 or #12 or an https URL',
    );
    assert.equal(
      specialValueProblem('pr', 'https://'),
      'pr=https:// is not a pull request like org/repo#12 or #12 or an https URL',
    );
    assert.equal(
      specialValueProblem('ticket', 'file:///etc/passwd'),
      'ticket=file:///etc/passwd is not a ticket key like CHG-1 or OPS-42 or an https URL',
    );
    assert.equal(
      specialValueProblem('incident', 'x\ty'),
      'incident must not contain whitespace, got "x\\ty"',
    );
    assert.equal(
      specialValueProblem('ticket', 'HTTP://x.example/1'),
      'ticket=HTTP://x.example/1 must be an https URL',
    );
  });
});
