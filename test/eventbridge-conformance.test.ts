/**
 * EventBridge pattern conformance: every case of the shared fixture suite
 * (`../shared/fixtures/eventbridge-patterns/cases.json`, relative to the repo root) must
 * agree with `matchesPattern`, one test per case named by the case. The suite's README
 * says where each case comes from (EventBridge docs, AWS-validated LocalStack templates,
 * aws/event-ruler). `cases-ruler-only.json` and `cases-ambiguous.json` hold behaviour only
 * event-ruler documents, or where the docs and AWS disagree: they are run for information
 * and never fail; the tests print how many agree. Without the fixtures folder the suite is
 * skipped with a notice.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { compilePattern, explainMatch, matchesPattern } from '../src/domain/event-pattern.ts';

interface ConformanceCase {
  name: string;
  pattern: unknown;
  event: unknown;
  expected: boolean;
  source: string;
}

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures', 'eventbridge-patterns');
const present = existsSync(join(FIXTURES, 'cases.json'));
const notice = `fixtures not found at ${FIXTURES}; conformance suite skipped`;
if (!present) console.log(`eventbridge-conformance: ${notice}`);

const load = (file: string): ConformanceCase[] =>
  present ? (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as ConformanceCase[]) : [];

/** The matcher's answer, or the refusal when the pattern does not compile. */
function outcome(c: ConformanceCase): boolean | string {
  try {
    return matchesPattern(compilePattern(c.pattern), c.event);
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

if (!present) {
  it('EventBridge conformance suite', { skip: notice }, () => {});
} else {
  describe('EventBridge conformance (cases.json)', () => {
    for (const c of load('cases.json')) {
      it(c.name, () => {
        const compiled = compilePattern(c.pattern);
        assert.equal(matchesPattern(compiled, c.event), c.expected, `source: ${c.source}`);
        const explained = explainMatch(compiled, c.event);
        assert.equal(explained.matched, c.expected, 'explainMatch agrees');
        // A match shows only ok lines; a miss shows at least one reason.
        assert.equal(
          explained.fields.every((line) => line.ok),
          c.expected,
          'explanation lines',
        );
      });
    }
  });

  describe('EventBridge informational cases (never fail)', () => {
    for (const file of ['cases-ruler-only.json', 'cases-ambiguous.json']) {
      it(`${file}: prints how many agree`, (t) => {
        const cases = load(file);
        const disagreeing = cases.filter((c) => outcome(c) !== c.expected);
        const summary = `${file}: ${cases.length - disagreeing.length}/${cases.length} agree`;
        console.log(summary);
        t.diagnostic(summary);
        for (const c of disagreeing) {
          const note = `  differs: ${c.name} (expected ${c.expected}, got ${outcome(c)})`;
          console.log(note);
          t.diagnostic(note);
        }
      });
    }
  });
}
