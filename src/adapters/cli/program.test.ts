import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandText } from '../../domain/grammar.ts';
import { joinWords } from './program.ts';

describe('joinWords', () => {
  it('re-quotes a name=value the shell unquoted, so the grammar sees one value', () => {
    const text = joinWords([
      'deploy',
      'checkout-api',
      'prod',
      'version=1.4.2',
      'reason=two "quoted" words',
    ]);
    assert.equal(text, 'deploy checkout-api prod version=1.4.2 reason="two \\"quoted\\" words"');
    const parsed = parseCommandText(text);
    assert.ok(parsed.ok && parsed.value.kind === 'action');
    assert.equal(parsed.value.reason, 'two "quoted" words');
  });

  it('keeps a whole line passed as one argument', () => {
    const line = 'deploy checkout-api prod version=1.4.2 ticket=CHG-1';
    assert.equal(joinWords([line]), line);
  });
});
