import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOSTILE, wellFormed } from './block-kit.test-kit.ts';
import {
  codeBlock,
  codeBlockFit,
  displayText,
  escapeMrkdwn,
  escapePlain,
  fit,
  inlineCode,
  link,
  truncate,
} from './safe-text.ts';

describe('safe text', () => {
  it('§8.46 pings and special mentions are entity-escaped and ping nobody', () => {
    for (const s of [
      '<!channel>',
      '<!here>',
      '<!everyone>',
      '<@U012ABCDEF>',
      '<!subteam^S123>',
      '<#C123>',
    ]) {
      const out = escapeMrkdwn(s);
      assert.ok(!out.includes('<') && !out.includes('>'), out);
      assert.ok(out.startsWith('&lt;') && out.endsWith('&gt;'), out);
      assert.equal(escapePlain(s), out.replace(/ˍ/g, '_'));
    }
    assert.equal(escapeMrkdwn('<!channel>'), '&lt;!channel&gt;');
    assert.equal(escapeMrkdwn('&lt;!here&gt;'), '&amp;lt;!here&amp;gt;', 'an entity stays literal');
    assert.equal(escapeMrkdwn('@here and @Channel, @everyone'), '＠here and ＠Channel, ＠everyone');
    assert.equal(escapeMrkdwn('mail me@here.example'), 'mail me＠here.example');
  });

  it('§8.47 a disguised link is not clickable and markup is inert', () => {
    assert.equal(
      escapeMrkdwn('<https://evil.example|Approve here>'),
      '&lt;https://evil.example|Approve here&gt;',
    );
    assert.equal(
      escapeMrkdwn('*bold* _it_ ~s~ `code` ```block```'),
      '∗bold∗ ˍitˍ ∼s∼ ˋcodeˋ ˋˋˋblockˋˋˋ',
    );
    assert.equal(escapePlain('*bold* _it_'), '*bold* _it_', 'plain_text keeps markup characters');
  });

  it('§8.47 link() links only clean http(s) URLs, labelled as given, else escaped text', () => {
    assert.equal(link('https://jira.example/CHG-1', 'CHG-1'), '<https://jira.example/CHG-1|CHG-1>');
    assert.equal(link('https://x.example/?a=1&b=2', 'q'), '<https://x.example/?a=1&amp;b=2|q>');
    assert.equal(link('https://x.example', '<!here> *x*'), '<https://x.example|&lt;!here&gt; ∗x∗>');
    assert.equal(link('https://x.example', ''), '<https://x.example|https://x.example>');
    const refused = [
      'javascript:alert(1)',
      'https://evil.example|Approve here',
      'https://evil.example>',
      '<https://evil.example>',
      'https://evil.example/a b',
      'https://еvil.example', // Cyrillic е
      'ftp://x.example',
      'https://',
      'CHG-1',
      'https://x.example/\u202E',
    ];
    for (const url of refused) assert.equal(link(url, 'label'), 'label', url);
    assert.equal(link('javascript:x', '<b>'), '&lt;b&gt;');
  });

  it('§8.48 bidi overrides and invisible characters become visible; emoji sequences stay', () => {
    assert.equal(displayText('invoice\u202Eexe.txt'), 'invoice[U+202E]exe.txt');
    assert.equal(
      displayText('ad\u200Bmin\u2060 x\u200Dy \uFEFF\u00AD'),
      'ad[U+200B]min[U+2060] x[U+200D]y [U+FEFF][U+00AD]',
    );
    assert.equal(
      displayText('\u2066\u2067\u2068\u2069\u200E\u200F\u061C'),
      '[U+2066][U+2067][U+2068][U+2069][U+200E][U+200F][U+061C]',
    );
    assert.equal(
      displayText('\u3164\u115F'),
      '[U+3164][U+115F]',
      'Hangul fillers draw blank names',
    );
    const emoji = '😀 👨‍👩‍👧 🏳️‍🌈 🧑🏽‍💻 🏴󠁧󠁢󠁳󠁣󠁴󠁿';
    assert.equal(displayText(emoji), emoji);
    assert.equal(displayText('e\u0301 🇩🇪'), 'e\u0301 🇩🇪');
  });

  it('§8.48 right-to-left lines are isolated so they cannot reorder their neighbours', () => {
    assert.equal(displayText('שלום 123'), '\u2068שלום 123\u2069');
    assert.equal(displayText('abc\nمرحبا\ndef'), 'abc\n\u2068مرحبا\u2069\ndef');
    assert.equal(displayText('plain ascii'), 'plain ascii');
  });

  it('§8.48 combining marks are capped with a visible count; NUL, controls and lone surrogates go', () => {
    assert.equal(
      displayText('z\u0301\u0302\u0303\u0304\u0305\u0306'),
      'z\u0301\u0302\u0303\u0304[+2 marks]',
    );
    assert.equal(displayText('a\u0000b\u0007c\u001b[31m\u0085d'), 'abc[31md');
    assert.equal(displayText('a\r\nb\rc\td'), 'a\nb\nc\td');
    assert.equal(displayText('x\uD800y\uDC00z'), 'xyz');
    assert.equal(displayText('ok 😀'), 'ok 😀');
  });

  it('§8.48 never throws and never returns a lone surrogate on any hostile string', () => {
    for (const s of [...HOSTILE, HOSTILE.join(''), '\uD83D', '\uDE00\uD83D']) {
      for (const f of [escapeMrkdwn, escapePlain, inlineCode, (t: string) => codeBlock(t, 40)]) {
        const out = f(s);
        assert.ok(wellFormed(out), JSON.stringify(out));
        assert.ok(!out.includes('\u0000'));
      }
    }
  });

  it('§8.48 truncate counts UTF-16 code units (the larger of Slack’s possible units)', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 3), 'abc');
    assert.equal(truncate('😀😀😀😀😀', 5), '😀😀…', 'a 4-byte emoji counts 2');
    assert.equal(truncate('abcdef', 4, ' [cut]'), '');
    assert.equal(truncate('abcdefghij', 8, ' [cut]'), 'ab [cut]');
    assert.equal(truncate('a\u0000b', 2), 'ab', 'NUL is stripped before counting');
  });

  it('§8.48 truncation never splits a surrogate pair, an emoji sequence, marks or an entity', () => {
    const s = 'a😀👨‍👩‍👧e\u0301&amp;&lt;x\uD800';
    for (let max = 0; max <= s.length + 2; max++) {
      const out = truncate(s, max);
      assert.ok(out.length <= max, `${max}: ${out.length}`);
      assert.ok(wellFormed(out), `${max}: ${JSON.stringify(out)}`);
      const kept = out.endsWith('…') ? out.slice(0, -1) : out;
      assert.ok(s.startsWith(kept), `${max}: ${JSON.stringify(out)} is a prefix`);
      assert.ok(!/&[a-z]*$/.test(kept), `${max}: entity split in ${JSON.stringify(kept)}`);
      assert.ok(!kept.endsWith('\u200D') && !kept.endsWith('👨‍👩'), `${max}: family split`);
      assert.ok(!kept.endsWith('e'), `${max}: mark separated from its base`);
    }
  });

  it('§8.48 long text without spaces is still cut on whole characters', () => {
    const s = '👨‍👩‍👧🇩🇪e\u0301😀'.repeat(400);
    for (const max of [1, 2, 3, 500, 1001, 2047, 3000, 4444]) {
      const out = truncate(s, max);
      assert.ok(out.length <= max && wellFormed(out), String(max));
      assert.ok(s.startsWith(out.slice(0, -1)), String(max));
    }
  });

  it('§8.48 a cut inside an isolated right-to-left line closes the isolate', () => {
    const safe = escapePlain(`${'שלום '.repeat(20)}end`);
    const out = truncate(safe, 30);
    assert.ok(out.length <= 30);
    assert.equal(out.split('\u2068').length, out.split('\u2069').length);
    assert.ok(out.endsWith('\u2069…'));
  });

  it('§8.49 fit reports whether it cut', () => {
    assert.deepEqual(fit('short', 10), { text: 'short', cut: false });
    assert.deepEqual(fit('longer text', 5), { text: 'long…', cut: true });
  });

  it('§8.47 code blocks are escaped, fenced once, and nothing inside closes the fence', () => {
    const out = codeBlock('```\n<!here> *b*\n```\nok', 200);
    assert.equal(out, '```\nˋˋˋ\n&lt;!here&gt; *b*\nˋˋˋ\nok\n```');
    assert.equal(out.split('```').length, 3);
    assert.equal(codeBlock('', 50), '```\n(empty)\n```');
  });

  it('§8.49 code blocks of 1 MB stay within their size and say they were cut', () => {
    const mb = `${'line of output <&>\n'.repeat(60_000)}`;
    const { text, cut } = codeBlockFit(mb, 2500);
    assert.ok(text.length <= 2500, String(text.length));
    assert.ok(cut);
    assert.ok(text.endsWith('…\n```'));
    const exact = codeBlockFit('x'.repeat(2492), 2500);
    assert.equal(exact.cut, false);
    assert.equal(exact.text.length, 2500);
    const over = codeBlockFit('x'.repeat(2493), 2500);
    assert.ok(over.cut && over.text.length <= 2500);
  });

  it('inline code keeps copyable text, one line, with backticks neutralised', () => {
    assert.equal(
      inlineCode('/ops deploy feature_flag=<text>'),
      '`/ops deploy feature_flag=&lt;text&gt;`',
    );
    assert.equal(inlineCode('a`b\nc'), '`aˋb c`');
    assert.equal(inlineCode('  '), '—');
  });

  it('does not change its input (stored text stays lossless)', () => {
    const input = HOSTILE.join(' ');
    const copy = `${input}`;
    escapeMrkdwn(input);
    truncate(input, 10);
    codeBlock(input, 100);
    assert.equal(input, copy);
  });
});
