import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoWith, expectOnly, replace } from './catalog-test-kit.ts';
import { loadCatalog } from './load-catalog.ts';

describe('routes, SNS topics, alert channels and maintenance windows', () => {
  it('the demo catalog routes checkout alarms and has one default route', async () => {
    const { catalog, errors } = await loadCatalog(await demoWith({}));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      catalog?.routes.map((r) => [r.id, r.isDefault, r.incident]),
      [
        ['checkout-5xx', false, true],
        ['checkout-alarms', false, false],
        ['checkout-prometheus', false, false],
        ['unrouted', true, false],
      ],
    );
    assert.equal(catalog?.routes[0]?.environment, 'from-account');
    assert.deepEqual(catalog?.routes[0]?.runbooks, ['high-error-rate']);
    assert.equal(catalog?.snsTopics.length, 2);
  });

  it('a pattern EventBridge would reject is an error at its field, naming the problem', async () => {
    const dir = await demoWith({
      'routes.yaml': replace(
        'alarmName: [{ prefix: checkout-api- }]',
        'alarmName: [{ prefixx: checkout-api- }]',
      ),
    });
    const e = await expectOnly(dir, 'routes.yaml', 'prefixx', /unknown operator "prefixx"/);
    assert.match(e.message, /routes\[1\]\.pattern\.detail\.alarmName/);
  });

  it('a route without an owning team is refused', async () => {
    const dir = await demoWith({
      'routes.yaml': replace(
        '  - id: checkout-alarms\n    team: payments\n',
        '  - id: checkout-alarms\n',
      ),
    });
    await expectOnly(
      dir,
      'routes.yaml',
      '- id: checkout-alarms',
      /every route needs an owning team/,
    );
  });

  it('unknown service, team or environment; an environment the service lacks', async () => {
    let dir = await demoWith({
      'routes.yaml': replace(
        'service: checkout-api\n    environment: from-account\n    severity: sev2\n    channel: C01ALERTS # #checkout-alerts\n    runbooks: [checkout-latency]',
        'service: checkout\n    environment: from-account\n    severity: sev2\n    channel: C01ALERTS # #checkout-alerts\n    runbooks: [checkout-latency]',
      ),
    });
    await expectOnly(dir, 'routes.yaml', 'service: checkout', /unknown service "checkout"/, 2);
    dir = await demoWith({
      'routes.yaml': replace(
        'environment: prod\n    severity: sev2\n    group_by',
        'environment: qa\n    severity: sev2\n    group_by',
      ),
    });
    await expectOnly(
      dir,
      'routes.yaml',
      'environment: qa',
      /has no environment "qa" \(has staging, prod\)/,
    );
  });

  it('a default route with a pattern, a route without one, and a second default', async () => {
    let dir = await demoWith({
      'routes.yaml': replace(
        '    default: true\n',
        '    default: true\n    pattern: { source: [x] }\n',
      ),
    });
    await expectOnly(
      dir,
      'routes.yaml',
      'pattern: { source: [x] }',
      /the default route .* has no pattern/,
    );
    dir = await demoWith({
      'more-routes.yaml':
        'routes:\n  - id: second\n    team: payments\n    default: true\n  - id: nopattern\n    team: payments\n',
    });
    const { errors } = await loadCatalog(dir);
    assert.ok(
      errors.some((e) =>
        /only one default route; the first is at more-routes\.yaml:\d+/.test(e.message),
      ),
    );
    assert.ok(errors.some((e) => /a route needs a `pattern`/.test(e.message)));
  });

  it('a topic that is not an SNS topic ARN, and a topic listed twice', async () => {
    let dir = await demoWith({
      'routes.yaml': replace(
        'arn:aws:sns:eu-west-1:111111111111:checkout-alarms',
        'arn:aws:sqs:eu-west-1:111111111111:q',
      ),
    });
    await expectOnly(dir, 'routes.yaml', 'arn:aws:sqs', /must be an SNS topic ARN/);
    dir = await demoWith({
      'routes.yaml': replace(
        'arn:aws:sns:eu-west-1:111111111111:checkout-alarms',
        'arn:aws:sns:eu-west-1:222222222222:checkout-alarms',
      ),
    });
    const { errors } = await loadCatalog(dir);
    assert.ok(errors.some((e) => /topic ".*" is listed twice/.test(e.message)));
  });

  it('a maintenance window names known services and ends after it starts', async () => {
    const mw = (to: string) =>
      `maintenance_windows:\n  - id: db-upgrade\n    services: [checkout-api]\n    environments: [prod]\n    from: "2026-12-01T22:00:00Z"\n    to: "${to}"\n    reason: Database upgrade\n`;
    let dir = await demoWith({ 'mw.yaml': mw('2026-12-02T02:00:00Z') });
    const { catalog, errors } = await loadCatalog(dir);
    assert.deepEqual(errors, []);
    assert.equal(catalog?.maintenanceWindows[0]?.to, Date.parse('2026-12-02T02:00:00Z'));
    dir = await demoWith({ 'mw.yaml': mw('2026-12-01T21:00:00Z') });
    await expectOnly(dir, 'mw.yaml', 'to:', /must be after `from`/);
  });
});
