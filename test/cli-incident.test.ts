/**
 * `countersign ops incident …`, `ops runbook …`, `report` and `incident postmortem` against
 * a running server: the harness app (demo catalog, SQLite, test clock) listening on a free
 * loopback port, and the real `buildProgram` parsing the words, with its actions wired to
 * the HTTP client as `src/main.ts` wires them. What a person sees is the printed text and
 * the exit code: 0 done, 1 refused (with the code), 2 a usage error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runOps, runPostmortem, runReport } from '../src/adapters/cli/ops-client.ts';
import { buildProgram, type CliActions } from '../src/adapters/cli/program.ts';
import { type Harness, harness } from './support/harness.ts';

interface Run {
  code: number;
  out: string;
}

describe('countersign incident verbs against a running server', () => {
  let h: Harness;
  let url: string;
  let dir: string;
  before(async () => {
    h = await harness();
    url = await h.app.listen({ port: 0, host: '127.0.0.1' });
    dir = mkdtempSync(join(tmpdir(), 'countersign-cli-incident-'));
  });
  after(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `countersign <args…> --url <server> --token cs_demo_<as>` in this process. */
  async function cs(as: string, ...args: string[]): Promise<Run> {
    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    const token = (o: { token?: string }) => o.token ?? '';
    const unused = () => Promise.reject(new Error('not used here'));
    const actions: CliActions = {
      serve: unused,
      validateConfig: unused,
      verifyAudit: unused,
      exportAudit: unused,
      explain: unused,
      testPattern: unused,
      routeEvent: unused,
      runbookTest: unused,
      ops: (text, o) => runOps(text, { url: o.url, token: token(o), kind: o.kind, out }),
      report: (o) =>
        runReport({
          url: o.url,
          token: token(o),
          ...(o.since ? { since: o.since } : {}),
          ...(o.until ? { until: o.until } : {}),
          json: o.json,
          out,
        }),
      postmortem: (id, o) =>
        runPostmortem(id, {
          url: o.url,
          token: token(o),
          ...(o.out ? { outFile: o.out } : {}),
          out,
        }),
    };
    let code = -1;
    const program = buildProgram(actions, (c) => {
      code = c;
    });
    await program.parseAsync([...args, '--url', url, '--token', `cs_demo_${as}`], {
      from: 'user',
    });
    return { code, out: lines.join('\n') };
  }
  const show = (r: Run) => `exit ${r.code}\n${r.out}`;

  let incident = '';
  let run = '';

  it('ops incident declare prints the new incident (exit 0); words the shell split are re-quoted', async () => {
    const r = await cs(
      'alice',
      'ops',
      'incident',
      'declare',
      'checkout-api',
      'prod',
      'sev=2',
      'title=Checkout answers 5xx',
      'runbook=high-error-rate',
    );
    assert.equal(r.code, 0, show(r));
    const m =
      /^Declared (INC-\w+)\.\n\1 open sev2 \(unconfirmed\) checkout-api prod: Checkout answers 5xx$/.exec(
        r.out,
      );
    assert.ok(m, show(r));
    incident = m[1]!;
  });

  it('ops incident status, update and list', async () => {
    const update = await cs('alice', 'ops', 'incident', 'update', incident, 'text=Rolling back');
    assert.equal(update.code, 0, show(update));
    assert.match(update.out, /^Status update posted\./);
    const status = await cs('carol', 'ops', 'incident', 'status', incident);
    assert.equal(status.code, 0, show(status));
    assert.match(status.out, /last update: Rolling back/);
    assert.match(status.out, /runbooks: high-error-rate/);
    const list = await cs('carol', 'ops', 'incident', 'list');
    assert.equal(list.code, 0);
    assert.ok(list.out.includes(incident), show(list));
  });

  it('a severity confirmation from a person without the role is refused: exit 1 with the code', async () => {
    const proposed = await cs('alice', 'ops', 'incident', 'severity', incident, 'sev=1');
    assert.equal(proposed.code, 0, show(proposed));
    assert.match(proposed.out, /needs a confirmation/);
    const refused = await cs('alice', 'ops', 'incident', 'confirm', incident);
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.out, /^refused \(403 FORBIDDEN\): Confirming a severity needs/);
    const confirmed = await cs('dave', 'ops', 'incident', 'confirm', incident);
    assert.equal(confirmed.code, 0, show(confirmed));
    assert.match(confirmed.out, /sev1/);
  });

  it('usage errors exit 2: from the grammar here, and from the verb on the server', async () => {
    const local = await cs('alice', 'ops', 'incident');
    assert.equal(local.code, 2, show(local));
    assert.match(local.out, /^error: missing incident subcommand/);
    const remote = await cs('alice', 'ops', 'incident', 'declare', 'checkout-api');
    assert.equal(remote.code, 2, show(remote));
    assert.match(remote.out, /missing environment/);
    assert.match(remote.out, /incident declare <service> <environment>/);
    const unknown = await cs('alice', 'ops', 'incident', 'escalate', incident);
    assert.equal(unknown.code, 2, show(unknown));
  });

  it('ops runbook start, a step out of order refused, then acknowledged', async () => {
    const started = await cs(
      'alice',
      'ops',
      'runbook',
      'start',
      'high-error-rate',
      `incident=${incident}`,
    );
    assert.equal(started.code, 0, show(started));
    const m =
      /^Started (RBR-\w+) \(high-error-rate\)\.\n\1 high-error-rate active\nnow: look /.exec(
        started.out,
      );
    assert.ok(m, show(started));
    run = m[1]!;
    const early = await cs('alice', 'ops', 'runbook', 'choose', run, 'step=cause', 'branch=none');
    assert.equal(early.code, 1, show(early));
    assert.match(early.out, /^refused \(409 STEP_OUT_OF_ORDER\)/);
    const ack = await cs(
      'alice',
      'ops',
      'runbook',
      'ack',
      run,
      'step=look',
      'note=deploy at 11:52',
    );
    assert.equal(ack.code, 0, show(ack));
    assert.match(ack.out, /now: cause "Did a deploy start it\?" \[choose/);
    const shown = await cs('carol', 'ops', 'runbook', 'show', run);
    assert.equal(shown.code, 0);
    assert.match(shown.out, /now: cause/);
  });

  it('ops help lists commands and the incident and runbook verbs', async () => {
    const r = await cs('alice', 'ops', 'help');
    assert.equal(r.code, 0, show(r));
    assert.match(r.out, /\/ops incident declare/);
    assert.match(r.out, /\/ops runbook start/);
  });

  it('resolve, then resolve again: refused with INCIDENT_CLOSED', async () => {
    h.clock.advance(300_000);
    const done = await cs('alice', 'ops', 'incident', 'resolve', incident, 'note=rolled back');
    assert.equal(done.code, 0, show(done));
    assert.match(done.out, /^Resolved\.\n\S+ resolved/);
    const again = await cs('alice', 'ops', 'incident', 'resolve', incident);
    assert.equal(again.code, 1, show(again));
    assert.match(again.out, /^refused \(409 INCIDENT_CLOSED\)/);
  });

  it('incident postmortem prints the Markdown, or writes it with --out; an unknown id exits 1', async () => {
    const printed = await cs('carol', 'incident', 'postmortem', incident);
    assert.equal(printed.code, 0, show(printed));
    assert.match(printed.out, /Checkout answers 5xx/);
    const at = (s: string) => printed.out.indexOf(s);
    assert.ok(at('Rolling back') >= 0 && at('rolled back') > at('Rolling back'), printed.out);
    const file = join(dir, 'pm.md');
    const written = await cs('carol', 'incident', 'postmortem', incident, '--out', file);
    assert.equal(written.code, 0, show(written));
    assert.equal(written.out, `wrote ${file}`);
    assert.equal(readFileSync(file, 'utf8').trimEnd(), printed.out);
    const unknown = await cs('carol', 'incident', 'postmortem', 'INC-00000000000000000000000000');
    assert.equal(unknown.code, 1);
    assert.match(unknown.out, /^refused \(404 UNKNOWN_INCIDENT\)/);
  });

  it('report prints the table, or JSON with --json; a bad --since is a usage error', async () => {
    const text = await cs('carol', 'report', '--since', '7d');
    assert.equal(text.code, 0, show(text));
    assert.match(text.out, /^Review report /);
    assert.match(text.out, /runbook:high-error-rate/);
    const json = await cs('carol', 'report', '--json');
    assert.equal(json.code, 0, show(json));
    const report = JSON.parse(json.out);
    assert.equal(report.totals.runs, 1);
    assert.ok(report.totals.incidents >= 1);
    const bad = await cs('carol', 'report', '--since', 'last week');
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.out, /--since must be/);
    const tooLong = await cs('carol', 'report', '--since', '900d');
    assert.equal(tooLong.code, 1, show(tooLong));
    assert.match(tooLong.out, /^refused \(400 INVALID_INPUT\)/);
  });

  it('a wrong token is refused: exit 1 with UNAUTHENTICATED', async () => {
    const r = await cs('mallory', 'ops', 'incident', 'list');
    assert.equal(r.code, 1, show(r));
    assert.match(r.out, /^refused \(401 UNAUTHENTICATED\)/);
  });
});
