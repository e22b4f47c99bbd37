import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from './errors.ts';
import { compilePattern, explainMatch, matchesPattern } from './event-pattern.ts';

/** Whether `pattern` matches `event`, both written as JSON text (keeps number notation honest). */
function matches(pattern: string, event: string): boolean {
  return matchesPattern(compilePattern(JSON.parse(pattern)), JSON.parse(event));
}

/** Asserts every `[event, expected]` pair against one pattern. */
function check(pattern: string, cases: [event: string, expected: boolean][]): void {
  const compiled = compilePattern(JSON.parse(pattern));
  for (const [event, expected] of cases) {
    assert.equal(matchesPattern(compiled, JSON.parse(event)), expected, `${pattern} vs ${event}`);
  }
}

/** Asserts the pattern is refused, naming `field`, with a message containing `fragment`. */
function refused(pattern: unknown, field: string, fragment: string): void {
  assert.throws(
    () => compilePattern(pattern),
    (e: unknown) => {
      assert.ok(e instanceof DomainError, `not a DomainError: ${String(e)}`);
      assert.equal(e.code, 'EVENT_PATTERN_INVALID');
      assert.equal(e.status, 400);
      assert.equal(e.details.field, field, e.message);
      assert.ok(e.message.startsWith(`${field}: `), e.message);
      assert.ok(e.message.includes(fragment), `"${e.message}" lacks "${fragment}"`);
      return true;
    },
    JSON.stringify(pattern),
  );
}

// The EC2 state-change event of the EventBridge user guide (eb-event-patterns).
const EC2_EVENT = JSON.stringify({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
});

describe('exact values', () => {
  it('matches the user guide EC2 example and ignores fields the pattern does not name', () => {
    const pattern = `{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
      "detail": {"state": ["terminated"]}}`;
    assert.equal(matches(pattern, EC2_EVENT), true);
    assert.equal(matches(pattern, EC2_EVENT.replace('terminated', 'running')), false);
  });

  it('treats a list as any-of, and fields as all-of', () => {
    check('{"Location": ["New York"], "Day": ["Monday", "Tuesday"]}', [
      ['{"Location": "New York", "Day": "Tuesday"}', true],
      ['{"Location": "Boston", "Day": "Monday"}', false],
      ['{"Location": "New York"}', false],
    ]);
  });

  it('compares strings exactly: case, spaces and wildcard characters are literal', () => {
    check('{"s": ["Run *"]}', [
      ['{"s": "Run *"}', true],
      ['{"s": "run *"}', false],
      ['{"s": "Run x"}', false],
      ['{"s": "Run * "}', false],
    ]);
  });

  it('keeps JSON types apart: "5" is not 5, "true" is not true, "null" is not null, 0 is not false', () => {
    check('{"n": [5]}', [
      ['{"n": 5}', true],
      ['{"n": "5"}', false],
    ]);
    check('{"b": [true]}', [
      ['{"b": true}', true],
      ['{"b": "true"}', false],
    ]);
    check('{"v": [null]}', [
      ['{"v": null}', true],
      ['{"v": "null"}', false],
    ]);
    check('{"v": [0]}', [['{"v": false}', false]]);
  });

  it('compares numbers by value once parsed: 300, 300.0 and 3.0e2 are one number', () => {
    check('{"n": [300]}', [
      ['{"n": 300.0}', true],
      ['{"n": 3.0e2}', true],
      ['{"n": 301}', false],
    ]);
  });

  it('matches null and the empty string as values, never a missing field (null-values guide)', () => {
    const event = '{"detail": {"eventVersion": "", "responseElements": null}}';
    assert.equal(matches('{"detail": {"responseElements": [null]}}', event), true);
    assert.equal(matches('{"detail": {"eventVersion": [""]}}', event), true);
    assert.equal(matches('{"detail": {"eventVersion": [null]}}', event), false);
    assert.equal(matches('{"detail": {"responseElements": [""]}}', event), false);
    assert.equal(matches('{"detail": {"requestParameters": [null]}}', event), false);
    assert.equal(matches('{"detail": {"errorCode": [""]}}', event), false);
  });

  it('does not match when the path is missing, at another level, or not an object', () => {
    assert.equal(matches('{"detail": {"instance-type": ["t2.micro"]}}', EC2_EVENT), false);
    assert.equal(matches('{"state": ["terminated"]}', EC2_EVENT), false);
    assert.equal(matches('{"detail": {"state": {"name": ["terminated"]}}}', EC2_EVENT), false);
    assert.equal(matches('{"detail": ["terminated"]}', EC2_EVENT), false);
    assert.equal(matches('{"detail": {"k": ["v"]}}', '{"detail": "{\\"k\\": \\"v\\"}"}'), false);
  });

  it('treats a dot in a key as part of the name, not as a path', () => {
    check('{"detail": {"state.status": ["running"]}}', [
      ['{"detail": {"state.status": "running"}}', true],
      ['{"detail": {"state": {"status": "running"}}}', false],
    ]);
  });

  it('reads only own fields, so names like constructor or __proto__ are ordinary keys', () => {
    check('{"constructor": [{"exists": false}], "toString": [{"exists": false}]}', [
      ['{}', true],
      ['{"constructor": "x"}', false],
    ]);
    check('{"__proto__": ["x"]}', [
      ['{"__proto__": "x"}', true],
      ['{}', false],
    ]);
  });

  it('an exact IP address also matches the same address written differently', () => {
    check('{"ip": ["2400:6500:FF00::36FB:1F80"]}', [
      ['{"ip": "2400:6500:ff00::36fb:1f80"}', true],
      ['{"ip": "2400:6500:ff00:0:0:0:36fb:1f80"}', true],
      ['{"ip": "2400:6500:ff00::36fb:1f81"}', false],
    ]);
  });
});

describe('arrays', () => {
  it('matches when the pattern list and an event array intersect (arrays guide)', () => {
    const pattern = `{"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}`;
    check(pattern, [
      [
        '{"resources": ["arn:aws:autoscaling:us-east-1:1:x", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}',
        true,
      ],
      ['{"resources": ["arn:aws:autoscaling:us-east-1:1:x"]}', false],
      ['{"resources": []}', false],
    ]);
  });

  it('flattens nested arrays, for values and for objects', () => {
    check('{"ids": [3]}', [
      ['{"ids": [[1, 2], [[3]]]}', true],
      ['{"ids": [[1, 2], []]}', false],
    ]);
    check('{"employees": {"firstName": ["Anna"]}}', [
      [
        '{"employees": [[{"firstName": "John"}, {"firstName": "Anna"}], [{"firstName": "Peter"}]]}',
        true,
      ],
    ]);
  });

  it('needs one element of an array of objects to satisfy a nested pattern as a whole', () => {
    const employees =
      '{"employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}]}';
    assert.equal(
      matches('{"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}', employees),
      true,
    );
    assert.equal(
      matches('{"employees": {"firstName": ["Anna"], "lastName": ["Doe"]}}', employees),
      false,
    );
    assert.equal(
      matches('{"employees": {"firstName": ["Anna"], "id": [{"exists": false}]}}', employees),
      true,
    );
  });

  it('lets operators match any element', () => {
    assert.equal(
      matches('{"scores": [{"numeric": [">", 100]}]}', '{"scores": [1, 50, 200]}'),
      true,
    );
    assert.equal(matches('{"tags": [{"anything-but": "red"}]}', '{"tags": ["red", "blue"]}'), true);
    assert.equal(
      matches('{"tags": [{"anything-but": ["red", "blue"]}]}', '{"tags": ["red", "blue"]}'),
      false,
    );
  });

  it('does not look into arrays nested more than 1000 deep, and never overflows the stack', () => {
    const nested = (depth: number) =>
      JSON.parse(`{"a": ${'['.repeat(depth)}"x"${']'.repeat(depth)}}`) as unknown;
    const value = compilePattern({ a: ['x'] });
    const absent = compilePattern({ a: [{ exists: false }] });
    assert.equal(matchesPattern(value, nested(1000)), true);
    assert.equal(matchesPattern(value, nested(50_000)), false);
    assert.equal(matchesPattern(absent, nested(50_000)), true);
    assert.equal(explainMatch(value, nested(50_000)).matched, false);
    const objects = compilePattern({ a: { b: ['x'] } });
    assert.equal(matchesPattern(objects, nested(50_000)), false);
  });

  it('matches an array of values only through its scalar elements', () => {
    assert.equal(matches('{"tags": ["a"]}', '{"tags": [{"a": 1}]}'), false);
    assert.equal(matches('{"tags": [null]}', '{"tags": ["a", null]}'), true);
  });
});

describe('prefix and suffix', () => {
  it('prefix matches strings that start with it, case-sensitively; "" matches any string', () => {
    check('{"time": [{"prefix": "2017-10-02"}]}', [
      ['{"time": "2017-10-02T18:43:48Z"}', true],
      ['{"time": "2017-10-03T18:43:48Z"}', false],
    ]);
    check('{"Region": [{"prefix": "us-"}]}', [
      ['{"Region": "us-west-1"}', true],
      ['{"Region": "US-west-1"}', false],
      ['{"Region": "eu-west-1"}', false],
    ]);
    check('{"s": [{"prefix": ""}]}', [
      ['{"s": ""}', true],
      ['{"s": "x"}', true],
      ['{"s": 1}', false],
    ]);
  });

  it('suffix matches strings that end with it', () => {
    check('{"FileName": [{"suffix": ".png"}]}', [
      ['{"FileName": "image.png"}', true],
      ['{"FileName": "image.PNG"}', false],
      ['{"FileName": "image.png.bak"}', false],
      ['{"FileName": 5}', false],
    ]);
  });

  it('the equals-ignore-case forms ignore letter case, anchored like the plain forms', () => {
    check('{"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}', [
      ['{"service": "eventbridge"}', true],
      ['{"service": "EVENTBRIDGE"}', true],
      ['{"service": "Lambda"}', false],
      ['{"service": "my-eventbridge"}', false],
    ]);
    check('{"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}', [
      ['{"FileName": "image.PNG"}', true],
      ['{"FileName": "image.Png"}', true],
      ['{"FileName": "image.jpg"}', false],
      ['{"FileName": ".PNG.x"}', false],
    ]);
  });

  it('folds case beyond ASCII too', () => {
    assert.equal(
      matches('{"s": [{"prefix": {"equals-ignore-case": "ÉVÉ"}}]}', '{"s": "événement"}'),
      true,
    );
    assert.equal(
      matches('{"s": [{"suffix": {"equals-ignore-case": "MENT"}}]}', '{"s": "ÉVÉNEment"}'),
      true,
    );
    assert.equal(
      matches('{"s": [{"prefix": {"equals-ignore-case": "évé"}}]}', '{"s": "ÉVA"}'),
      false,
    );
  });
});

describe('equals-ignore-case', () => {
  it('matches a string equal to it in any letter case, and nothing else', () => {
    check('{"Name": [{"equals-ignore-case": "alice"}]}', [
      ['{"Name": "Alice"}', true],
      ['{"Name": "ALICE"}', true],
      ['{"Name": "Alicia"}', false],
      ['{"Name": "alic"}', false],
      ['{"Name": ["bob", "aLiCe"]}', true],
    ]);
    check('{"v": [{"equals-ignore-case": "123"}]}', [['{"v": 123}', false]]);
    check('{"v": [{"equals-ignore-case": ""}]}', [
      ['{"v": ""}', true],
      ['{"v": "x"}', false],
    ]);
    check('{"v": [{"equals-ignore-case": "straße"}]}', [
      ['{"v": "STRAßE"}', true],
      ['{"v": "strasse"}', false],
    ]);
  });
});

describe('anything-but', () => {
  it('excludes one string or number, and matches any other present value', () => {
    check('{"state": [{"anything-but": "initializing"}]}', [
      ['{"state": "running"}', true],
      ['{"state": "initializing"}', false],
      ['{"state": "INITIALIZING"}', true],
      ['{"state": null}', true],
      ['{"state": 5}', true],
      ['{}', false],
    ]);
    check('{"x-limit": [{"anything-but": 123}]}', [
      ['{"x-limit": 456}', true],
      ['{"x-limit": 123}', false],
      ['{"x-limit": 123.0}', false],
      ['{"x-limit": "123"}', true],
    ]);
  });

  it('excludes a list of strings or a list of numbers', () => {
    check('{"state": [{"anything-but": ["stopped", "overloaded"]}]}', [
      ['{"state": "pending"}', true],
      ['{"state": "stopped"}', false],
    ]);
    check('{"x-limit": [{"anything-but": [100, 200, 300]}]}', [
      ['{"x-limit": 999}', true],
      ['{"x-limit": 300}', false],
      ['{"x-limit": "300"}', true],
    ]);
  });

  it('with prefix, suffix, equals-ignore-case or wildcard excludes matching strings only', () => {
    check('{"Region": [{"anything-but": {"prefix": "us-"}}]}', [
      ['{"Region": "eu-west-1"}', true],
      ['{"Region": "us-east-1"}', false],
      ['{"Region": 12}', true],
      ['{"Region": null}', true],
      ['{}', false],
    ]);
    check('{"FileName": [{"anything-but": {"suffix": [".png", ".jpg"]}}]}', [
      ['{"FileName": "a.txt"}', true],
      ['{"FileName": "a.jpg"}', false],
    ]);
    check('{"state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]}', [
      ['{"state": "pending"}', true],
      ['{"state": "Stopped"}', false],
    ]);
    check('{"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}', [
      ['{"FilePath": "/usr/bin/env"}', true],
      ['{"FilePath": "/usr/lib/x.so"}', false],
      ['{"FilePath": 123}', true],
    ]);
  });
});

describe('numeric', () => {
  it('supports =, <, <=, >, >= and a range opened by > or >= and closed by < or <=', () => {
    const cases: [string, number, boolean][] = [
      ['["=", 301.8]', 3.018e2, true],
      ['["=", 100]', 100.0, true],
      ['["<", 10]', 9.999, true],
      ['["<", 10]', 10, false],
      ['["<=", 10]', 10, true],
      ['[">", 10]', 10, false],
      ['[">=", 10]', 10, true],
      ['[">", 0, "<=", 5]', 5, true],
      ['[">", 0, "<=", 5]', 0, false],
      ['[">=", 0, "<", 5]', 0, true],
      ['[">=", 0, "<", 5]', 5, false],
      ['[">=", -10, "<=", -1]', -0.5, false],
      ['[">", 1000000000]', 4999999999, true],
    ];
    for (const [comparison, value, expected] of cases) {
      assert.equal(
        matches(`{"n": [{"numeric": ${comparison}}]}`, `{"n": ${value}}`),
        expected,
        comparison,
      );
    }
  });

  it('looks at JSON numbers only', () => {
    for (const value of ['"5"', 'true', 'null', '{"v": 5}', '[]']) {
      assert.equal(matches('{"n": [{"numeric": [">", 0]}]}', `{"n": ${value}}`), false, value);
    }
  });

  it('the user guide example: every field must hold', () => {
    const pattern = `{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
      "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}`;
    check(pattern, [
      ['{"detail": {"c-count": 5, "d-count": 3, "x-limit": 301.8}}', true],
      ['{"detail": {"c-count": 6, "d-count": 3, "x-limit": 301.8}}', false],
    ]);
  });
});

describe('exists', () => {
  it('true matches a present leaf value, null included; false matches its absence', () => {
    check('{"detail": {"state": [{"exists": true}]}}', [
      ['{"detail": {"state": "pending"}}', true],
      ['{"detail": {"state": null}}', true],
      ['{"detail": {"state": ["a"]}}', true],
      ['{"detail": {"state": []}}', false],
      ['{"detail": {"state": {"name": "x"}}}', false],
      ['{"detail": {}}', false],
    ]);
    check('{"detail": {"c-count": [{"exists": false}]}}', [
      ['{"detail": {}}', true],
      ['{}', true],
      ['{"detail": "text"}', true],
      ['{"detail": {"c-count": {"c1": 100}}}', true],
      ['{"detail": {"c-count": []}}', true],
      ['{"detail": {"c-count": null}}', false],
      ['{"detail": {"c-count": 0}}', false],
    ]);
  });

  it('exists:false beside other values in one list: absent or a matching value', () => {
    check('{"S": [{"anything-but": ["roses"]}, {"exists": false}]}', [
      ['{}', true],
      ['{"S": "tulips"}', true],
      ['{"S": "roses"}', false],
    ]);
  });
});

describe('cidr', () => {
  it('matches IPv4 addresses inside the block (content-filtering guide)', () => {
    check('{"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}}', [
      ['{"detail": {"sourceIPAddress": "10.0.0.0"}}', true],
      ['{"detail": {"sourceIPAddress": "10.0.0.255"}}', true],
      ['{"detail": {"sourceIPAddress": "10.0.1.0"}}', false],
      ['{"detail": {"sourceIPAddress": "10.0.0.256"}}', false],
      ['{"detail": {"sourceIPAddress": "10.0.0"}}', false],
      ['{"detail": {"sourceIPAddress": 123}}', false],
      ['{"detail": {"sourceIPAddress": "not-an-ip"}}', false],
    ]);
  });

  it('matches IPv6 addresses in any notation, and never crosses families', () => {
    check('{"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}', [
      ['{"ip": "2001:0db8:1234:1a00:0000:0000:0000:0000"}', true],
      ['{"ip": "2001:DB8:1234:1A00::1"}', true],
      ['{"ip": "2001:db8:1234:1a01::"}', false],
      ['{"ip": "2001:db8::1::2"}', false],
      ['{"ip": "10.0.0.1"}', false],
    ]);
    check('{"ip": [{"cidr": "10.0.0.0/8"}]}', [['{"ip": "::ffff:a00:1"}', false]]);
    check('{"ip": [{"cidr": "::/0"}]}', [
      ['{"ip": "::"}', true],
      ['{"ip": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}', true],
    ]);
  });

  it('clears host bits written in the block', () => {
    check('{"ip": [{"cidr": "192.168.7.9/16"}]}', [
      ['{"ip": "192.168.0.1"}', true],
      ['{"ip": "192.169.0.1"}', false],
    ]);
  });
});

describe('wildcard', () => {
  it('* matches any run of characters, including none, and anchors both ends', () => {
    check('{"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}', [
      ['{"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}', true],
      ['{"EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"}', false],
    ]);
    check('{"key": [{"wildcard": "dir/*.png"}]}', [
      ['{"key": "dir/.png"}', true],
      ['{"key": "dir/a/b.png"}', true],
      ['{"key": "xdir/a.png"}', false],
      ['{"key": "dir/a.png.bak"}', false],
    ]);
    check('{"key": [{"wildcard": "ab*ba"}]}', [['{"key": "aba"}', false]]);
  });

  it('\\* is a literal star, \\\\ a literal backslash, and ? is not special', () => {
    check(String.raw`{"k": [{"wildcard": "v\\**"}]}`, [
      ['{"k": "v*2024"}', true],
      ['{"k": "v2024"}', false],
    ]);
    check(String.raw`{"k": [{"wildcard": "C:\\\\dir\\\\*"}]}`, [
      [String.raw`{"k": "C:\\dir\\a.txt"}`, true],
    ]);
    check('{"k": [{"wildcard": "file?.txt"}]}', [
      ['{"k": "file?.txt"}', true],
      ['{"k": "file1.txt"}', false],
    ]);
  });

  it('an empty wildcard matches only the empty string; strings only', () => {
    check('{"k": [{"wildcard": ""}]}', [
      ['{"k": ""}', true],
      ['{"k": "x"}', false],
    ]);
    check('{"k": [{"wildcard": "1*"}]}', [['{"k": 123}', false]]);
  });
});

describe('$or', () => {
  it('needs one branch, combined with the other fields (operators guide)', () => {
    const pattern = `{"source": ["aws.cloudwatch"], "$or": [
      {"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"], "metricType": ["MetricType"]}]}`;
    check(pattern, [
      ['{"source": "aws.cloudwatch", "metricName": "CPUUtilization"}', true],
      ['{"source": "aws.cloudwatch", "namespace": "AWS/EC2", "metricType": "MetricType"}', true],
      ['{"source": "aws.cloudwatch", "namespace": "AWS/EC2"}', false],
      ['{"source": "aws.ec2", "metricName": "CPUUtilization"}', false],
    ]);
  });

  it('works at any level and nests', () => {
    const pattern = `{"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]},
      {"$or": [{"d-count": [{"numeric": ["<", 10]}]}, {"x-limit": [301.8]}]}]}}`;
    check(pattern, [
      ['{"detail": {"c-count": 3}}', true],
      ['{"detail": {"c-count": 0, "d-count": 9}}', true],
      ['{"detail": {"c-count": 0, "d-count": 10, "x-limit": 301.8}}', true],
      ['{"detail": {"c-count": 0, "d-count": 10, "x-limit": 3}}', false],
    ]);
  });
});

describe('validation', () => {
  it('refuses a pattern that is not a non-empty JSON object', () => {
    refused([], '(pattern)', 'must be a JSON object');
    refused('{"source": ["x"]}', '(pattern)', 'must be a JSON object');
    refused(null, '(pattern)', 'must be a JSON object');
    refused({}, '(pattern)', 'empty objects are not allowed');
    refused({ detail: {} }, 'detail', 'empty objects are not allowed');
  });

  it('refuses leaves that are not non-empty arrays of JSON scalars or operator objects', () => {
    refused({ source: 'aws.ec2' }, 'source', 'must be an array of values');
    refused({ detail: { count: 42 } }, 'detail.count', 'must be an array of values');
    refused({ resources: [] }, 'resources', 'empty arrays are not allowed');
    refused({ a: [['x']] }, 'a', 'a match value must be a string, number, true, false, null');
    refused({ a: [Number.NaN] }, 'a', 'a match value must be');
  });

  it('refuses unknown operators, with a hint, and operator objects without exactly one operator', () => {
    refused(
      { detail: { state: [{ prefixx: 'a' }] } },
      'detail.state',
      'unknown operator "prefixx" (did you mean "prefix"?)',
    );
    refused(
      { a: [{ NUMERIC: ['=', 5] }] },
      'a',
      'unknown operator "NUMERIC" (operators are lower-case: "numeric")',
    );
    refused({ a: [{ regex: 'x' }] }, 'a', 'unknown operator "regex"');
    refused({ a: [{}] }, 'a', 'needs an operator');
    refused({ a: [{ prefix: 'a', suffix: 'b' }] }, 'a', 'exactly one operator');
  });

  it('checks the argument of prefix, suffix, equals-ignore-case, exists and wildcard', () => {
    refused({ time: [{ prefix: 123 }] }, 'time', 'prefix must be a string');
    refused({ time: [{ prefix: ['2022'] }] }, 'time', 'prefix must be a string');
    refused(
      { s: [{ prefix: { foo: 'x' } }] },
      's',
      'prefix takes a string or {"equals-ignore-case"',
    );
    refused(
      { s: [{ suffix: { 'equals-ignore-case': 1 } }] },
      's',
      'suffix equals-ignore-case must be a string',
    );
    refused({ s: [{ suffix: 123 }] }, 's', 'suffix must be a string');
    refused({ s: [{ 'equals-ignore-case': ['x'] }] }, 's', 'equals-ignore-case must be a string');
    refused(
      { s: [{ 'equals-ignore-case': { prefix: 'x' } }] },
      's',
      'equals-ignore-case must be a string',
    );
    refused({ s: [{ exists: 'true' }] }, 's', 'exists must be true or false');
    refused({ s: [{ wildcard: 123 }] }, 's', 'wildcard must be a string');
    refused({ s: [{ wildcard: ['a*'] }] }, 's', 'wildcard must be a string');
    refused(
      { s: [{ wildcard: 'arn:**:x' }] },
      's',
      'consecutive wildcard characters at position 5',
    );
    refused({ s: [{ wildcard: 'a\\b' }] }, 's', 'invalid escape at position 2');
    refused({ s: [{ wildcard: 'a\\' }] }, 's', 'invalid escape');
    refused({ s: [{ wildcard: '*:*:*:*:*:event-bus/*' }] }, 's', 'too complex');
  });

  it('checks numeric: an array of comparisons and numbers, at most a closed range', () => {
    const path = 'detail.c-count';
    const numeric = (argument: unknown) => ({ detail: { 'c-count': [{ numeric: argument }] } });
    refused(numeric('>5'), path, 'numeric must be an array');
    refused(numeric([]), path, 'numeric must start with a comparison');
    refused(numeric([5]), path, 'numeric must start with a comparison');
    refused(numeric(['~', 5]), path, 'unknown numeric comparison "~"');
    refused(
      numeric(['>', '5']),
      path,
      'numeric needs numbers: the value after ">" must be a number',
    );
    refused(numeric(['=']), path, 'numeric needs numbers');
    refused(numeric(['>', 0, '<']), path, 'the value after "<" must be a number');
    refused(numeric(['>', 0, '>', 0]), path, 'a numeric range closes with < or <=');
    refused(numeric(['<', 5, '>', 1]), path, 'only > or >= can open a range');
    refused(numeric(['=', 1, '<', 2]), path, 'only > or >= can open a range');
    refused(numeric(['>', 5, '<', 5]), path, 'empty numeric range');
    refused(numeric(['>', 0, '<', 5, '<', 6]), path, 'at most two comparisons');
  });

  it('checks cidr blocks', () => {
    refused({ ip: [{ cidr: '10.0.0.0' }] }, 'ip', "one '/' required");
    refused({ ip: [{ cidr: '10.0.0.0/24/1' }] }, 'ip', "one '/' required");
    refused({ ip: [{ cidr: '10.0.0.0/x' }] }, 'ip', 'mask bits must be a whole number');
    refused({ ip: [{ cidr: 'xx.11.xx/24' }] }, 'ip', '"xx.11.xx" is not an IP address');
    refused({ ip: [{ cidr: 'xxxx:db8:1234:1a00::/64' }] }, 'ip', 'is not an IP address');
    refused({ ip: [{ cidr: '10.0.0.0/32' }] }, 'ip', 'IPv4 mask bits must be below 32');
    refused({ ip: [{ cidr: '::/128' }] }, 'ip', 'IPv6 mask bits must be below 128');
    refused({ ip: [{ cidr: ['bad-type'] }] }, 'ip', 'cidr must be a string');
  });

  it('checks anything-but', () => {
    const s = (argument: unknown) => ({ detail: { state: [{ 'anything-but': argument }] } });
    const path = 'detail.state';
    refused(s(null), path, 'anything-but takes a string, a number, a list');
    refused(s(true), path, 'anything-but takes a string, a number, a list');
    refused(s([]), path, 'anything-but needs at least one value');
    refused(s(['stopped', null]), path, 'only strings or only numbers, not null');
    refused(s(['stopped', 1]), path, 'only strings or only numbers, not both');
    refused(s({}), path, 'anything-but needs one of prefix, suffix, equals-ignore-case, wildcard');
    refused(s({ foo: 'x' }), path, 'not "foo"');
    refused(s({ prefix: 'a', suffix: 'b' }), path, 'exactly one of');
    refused(s({ prefix: '' }), path, 'anything-but prefix must not be empty');
    refused(s({ suffix: ['.txt', ''] }), path, 'anything-but suffix must not be empty');
    refused(
      s({ prefix: 123 }),
      path,
      'anything-but prefix takes a string or a list of strings, not 123',
    );
    refused(
      s({ suffix: [null, '.txt'] }),
      path,
      'anything-but suffix takes only strings, not null',
    );
    refused(
      s({ prefix: { 'equals-ignore-case': 'file' } }),
      path,
      'takes a string or a list of strings',
    );
    refused(
      s({ 'equals-ignore-case': 123 }),
      path,
      'anything-but equals-ignore-case takes a string or a list of strings, not 123',
    );
    refused(s({ 'equals-ignore-case': [123, 456] }), path, 'takes only strings, not 123');
    refused(s({ wildcard: [123, '*/dir/*'] }), path, 'anything-but wildcard takes only strings');
    refused(s({ wildcard: 'a**' }), path, 'consecutive wildcard characters');
  });

  it('checks $or: an array of at least two non-empty objects, without operator names as fields', () => {
    refused({ $or: { a: ['x'] } }, '$or', 'must be an array of pattern objects');
    refused({ $or: [{ a: ['x'] }] }, '$or', 'needs at least 2 pattern objects, found 1');
    refused(
      { detail: { $or: [{ a: ['x'] }, 'b'] } },
      'detail.$or[1]',
      'each $or entry must be a pattern object',
    );
    refused({ $or: [{ a: ['x'] }, {}] }, '$or[1]', 'empty objects are not allowed');
    refused({ $or: [{ prefix: ['x'] }, { a: ['y'] }] }, '$or[0].prefix', 'is an operator name');
    refused(
      { detail: { $or: [{ a: ['x'] }, { count: [{ numeric: ['>', 'one'] }] }] } },
      'detail.$or[1].count',
      'numeric needs numbers',
    );
  });
});

describe('compilePattern and matchesPattern', () => {
  it('keeps the source pattern and matches only JSON objects', () => {
    const source = { source: [{ exists: false }] };
    const compiled = compilePattern(source);
    assert.equal(compiled.source, source);
    assert.equal(matchesPattern(compiled, {}), true);
    for (const event of [null, [], 'x', 5, undefined]) {
      assert.equal(matchesPattern(compiled, event), false, String(event));
    }
  });
});

describe('explainMatch', () => {
  const pattern = compilePattern({
    source: ['aws.ec2'],
    detail: { state: [{ 'anything-but': 'running' }], 'c-count': [{ numeric: ['>', 0] }] },
    $or: [{ region: ['us-east-1'] }, { account: [{ prefix: '1111' }] }],
  });

  it('gives one line per leaf and per $or, in pattern order; a matched $or shows its matching branch', () => {
    const result = explainMatch(pattern, JSON.parse(EC2_EVENT));
    assert.equal(result.matched, false);
    assert.deepEqual(result.fields, [
      { field: 'source', ok: true, expected: '["aws.ec2"]', actual: '"aws.ec2"' },
      {
        field: 'detail.state',
        ok: true,
        expected: '[{"anything-but":"running"}]',
        actual: '"terminated"',
      },
      {
        field: 'detail.c-count',
        ok: false,
        expected: '[{"numeric":[">",0]}]',
        actual: '(missing)',
      },
      { field: '$or', ok: true, expected: 'any of 2 branches', actual: 'branch 1 matched' },
      {
        field: '$or[1].account',
        ok: true,
        expected: '[{"prefix":"1111"}]',
        actual: '"111122223333"',
      },
    ]);
  });

  it('agrees with matchesPattern, and a match has only ok lines', () => {
    const event = JSON.parse(EC2_EVENT);
    event.detail['c-count'] = 2;
    const result = explainMatch(pattern, event);
    assert.equal(result.matched, true);
    assert.ok(result.fields.every((line) => line.ok));
  });

  it('lists every branch of an $or that did not match', () => {
    const either = compilePattern({ $or: [{ a: ['x'] }, { b: { c: ['y'] } }] });
    assert.deepEqual(explainMatch(either, { b: [{ c: 'z' }] }), {
      matched: false,
      fields: [
        { field: '$or', ok: false, expected: 'any of 2 branches', actual: 'no branch matched' },
        { field: '$or[0].a', ok: false, expected: '["x"]', actual: '(missing)' },
        {
          field: '$or[1].b',
          ok: false,
          expected: 'one element matching {"c":["y"]}',
          actual: 'none of 1 elements matched',
        },
      ],
    });
  });

  it('names the array element that satisfied a nested pattern, or says none did', () => {
    const nested = compilePattern({ employees: { firstName: ['Anna'] } });
    const hit = explainMatch(nested, { employees: [{ firstName: 'John' }, { firstName: 'Anna' }] });
    assert.deepEqual(hit.fields, [
      { field: 'employees[1].firstName', ok: true, expected: '["Anna"]', actual: '"Anna"' },
    ]);
    const miss = explainMatch(nested, { employees: [{ firstName: 'John' }] });
    assert.equal(miss.matched, false);
    assert.deepEqual(miss.fields, [
      {
        field: 'employees',
        ok: false,
        expected: 'one element matching {"firstName":["Anna"]}',
        actual: 'none of 1 elements matched',
      },
    ]);
  });

  it('explains an event that is not an object', () => {
    assert.deepEqual(explainMatch(pattern, 'text'), {
      matched: false,
      fields: [{ field: '(event)', ok: false, expected: 'a JSON object', actual: '"text"' }],
    });
  });
});
