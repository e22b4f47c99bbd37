import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoWith, expectOnly, replace } from './catalog-test-kit.ts';
import { formatCatalogErrors, loadCatalog } from './load-catalog.ts';

const MITIGATION = 'incidents.yaml';
/** Edits the demo's one mitigation. */
const mitigation = (from: string, to: string) => demoWith({ [MITIGATION]: replace(from, to) });

/** A second service, for rules that name the wrong one. */
const SEARCH = [
  'services:',
  '  - id: search',
  '    team: payments',
  '    environments: [{ name: prod, aws_account: "333333333333" }]',
  '',
].join('\n');

describe('runbooks: owners and services', () => {
  it('a runbook needs a known owning team', async () => {
    let dir = await demoWith({
      'runbooks.yaml': replace(
        '  - id: checkout-latency\n    team: payments\n',
        '  - id: checkout-latency\n',
      ),
    });
    await expectOnly(
      dir,
      'runbooks.yaml',
      '- id: checkout-latency',
      /runbooks\[1\]\.team: every runbook needs an owning team/,
    );
    dir = await demoWith({
      'runbooks.yaml': replace(
        '  - id: checkout-latency\n    team: payments\n',
        '  - id: checkout-latency\n    team: platform\n',
      ),
    });
    await expectOnly(dir, 'runbooks.yaml', 'team: platform', /unknown team "platform"/);
  });

  it('names known services, and each id once', async () => {
    let dir = await demoWith({
      'runbooks.yaml': replace(
        'services: [checkout-api]\n    steps:\n      - id: status',
        'services: [checkout]\n    steps:\n      - id: status',
      ),
    });
    await expectOnly(
      dir,
      'runbooks.yaml',
      'services: [checkout]',
      /runbooks\[1\]\.services\[0\]: unknown service "checkout"/,
    );
    dir = await demoWith({
      'z-more.yaml':
        'runbooks:\n  - id: high-error-rate\n    team: payments\n    title: Again\n    steps: [{ id: a, kind: check, title: A }]\n',
    });
    await expectOnly(
      dir,
      'z-more.yaml',
      'id: high-error-rate',
      /duplicate runbook id "high-error-rate"; first defined at runbooks\.yaml:\d+/,
    );
  });
});

describe("routes' runbooks", () => {
  it('a route names known runbooks', async () => {
    const dir = await demoWith({
      'routes.yaml': replace('runbooks: [checkout-latency]', 'runbooks: [checkout-slow]'),
    });
    await expectOnly(
      dir,
      'routes.yaml',
      'runbooks: [checkout-slow]',
      /routes\[1\]\.runbooks\[0\]: unknown runbook "checkout-slow"/,
    );
  });

  it("a route's runbook applies to the route's service", async () => {
    const dir = await demoWith({
      'search.yaml': SEARCH,
      'runbooks.yaml': replace(
        'services: [checkout-api]\n    steps:\n      - id: status',
        'services: [search]\n    steps:\n      - id: status',
      ),
    });
    await expectOnly(
      dir,
      'routes.yaml',
      'runbooks: [checkout-latency]',
      /routes\[1\]\.runbooks\[0\]: runbook "checkout-latency" is for search, not service "checkout-api"/,
    );
  });
});

describe('mitigations', () => {
  it('a mitigation needs a known owning team, and each id once', async () => {
    let dir = await mitigation(
      '    team: payments\n    description: A restart',
      '    description: A restart',
    );
    await expectOnly(
      dir,
      MITIGATION,
      '- id: checkout-5xx-restart',
      /mitigations\[0\]\.team: every mitigation needs an owning team/,
    );
    dir = await demoWith({
      'more.yaml':
        'mitigations:\n  - { id: checkout-5xx-restart, team: payments, route: checkout-5xx, service: checkout-api, environments: [prod], command: status }\n',
    });
    await expectOnly(
      dir,
      'more.yaml',
      'id: checkout-5xx-restart',
      /duplicate mitigation id "checkout-5xx-restart"; first defined at incidents\.yaml:\d+/,
    );
  });

  it('its route exists and opens incidents', async () => {
    let dir = await mitigation('route: checkout-5xx', 'route: checkout-500');
    await expectOnly(dir, MITIGATION, 'route: checkout-500', /unknown route "checkout-500"/);
    dir = await mitigation('route: checkout-5xx', 'route: checkout-alarms');
    await expectOnly(
      dir,
      MITIGATION,
      'route: checkout-alarms',
      /mitigations\[0\]\.route: route "checkout-alarms" does not open incidents \(no incident: true\), so this mitigation would never run/,
    );
  });

  it("its service is the route's, and its environments exist on it", async () => {
    let dir = await demoWith({
      'search.yaml': SEARCH,
      [MITIGATION]: replace('service: checkout-api', 'service: search'),
    });
    await expectOnly(
      dir,
      MITIGATION,
      'service: search',
      /route "checkout-5xx" is for service "checkout-api", not "search", so this mitigation would never run/,
    );
    dir = await mitigation('service: checkout-api', 'service: checkout');
    await expectOnly(dir, MITIGATION, 'service: checkout', /unknown service "checkout"/);
    dir = await mitigation('environments: ["*"]', 'environments: [prod, qa]');
    await expectOnly(
      dir,
      MITIGATION,
      'environments: [prod, qa]',
      /mitigations\[0\]\.environments\[1\]: service "checkout-api" has no environment "qa" \(has staging, prod\)/,
    );
  });

  it('lists the environment a route always sets, or it never runs', async () => {
    const dir = await demoWith({
      'routes.yaml': replace(
        '    group_by: [detail.labels.alertname]\n',
        '    group_by: [detail.labels.alertname]\n    incident: true\n',
      ),
      [MITIGATION]: (t) =>
        t
          .replace('route: checkout-5xx', 'route: checkout-prometheus')
          .replace('environments: ["*"]', 'environments: [staging]'),
    });
    await expectOnly(
      dir,
      MITIGATION,
      'environments: [staging]',
      /route "checkout-prometheus" always sets environment "prod", which is not listed/,
    );
  });

  it('its command exists and is never destructive; read-only is allowed', async () => {
    let dir = await mitigation('command: restart', 'command: reboot');
    await expectOnly(dir, MITIGATION, 'command: reboot', /unknown command "reboot"/);
    dir = await mitigation('command: restart', 'command: flush-cache');
    await expectOnly(
      dir,
      MITIGATION,
      'command: flush-cache',
      /mitigations\[0\]\.command: command "flush-cache" is destructive, and a destructive command is never pre-approved/,
    );
    dir = await mitigation('command: restart', 'command: status');
    const { errors } = await loadCatalog(dir);
    assert.deepEqual(errors, [], formatCatalogErrors(errors));
  });

  it("its parameters fit the command's; placeholders are known ones", async () => {
    let dir = await mitigation(
      'command: restart\n    params: {}',
      'command: scale\n    params: { replicas: "0" }',
    );
    await expectOnly(
      dir,
      MITIGATION,
      'replicas: "0"',
      /mitigations\[0\]\.params\.replicas: replicas must be at least 1, got "0"/,
    );
    dir = await mitigation('params: {}', 'params: { force: "yes" }');
    await expectOnly(
      dir,
      MITIGATION,
      'force: "yes"',
      /params\.force: unknown parameter force for restart; accepted: none/,
    );
    dir = await mitigation('command: restart\n    params: {}', 'command: scale\n    params: {}');
    await expectOnly(
      dir,
      MITIGATION,
      'params: {}',
      /mitigations\[0\]\.params: missing required parameter replicas for scale/,
    );
    dir = await mitigation('params: {}', 'params: { force: "{{ incident }}" }');
    await expectOnly(
      dir,
      MITIGATION,
      'force:',
      /params\.force: unknown parameter force for restart/,
    );
    dir = await mitigation(
      'command: restart\n    params: {}',
      'command: deploy\n    params: { version: "{{release}}" }',
    );
    await expectOnly(
      dir,
      MITIGATION,
      'version:',
      /mitigations\[0\]\.params\.version: unknown placeholder "\{\{release\}\}"/,
    );
    dir = await mitigation(
      'command: restart\n    params: {}',
      'command: deploy\n    params: { version: "{{ environment }}" }',
    );
    const { errors } = await loadCatalog(dir);
    assert.deepEqual(errors, [], 'a filled value is checked when the incident opens');
  });
});

describe('incident settings', () => {
  it('are one mapping, defined once in the folder', async () => {
    let dir = await demoWith({ 'more.yaml': 'incidents:\n  chat: channel\n' });
    await expectOnly(
      dir,
      'more.yaml',
      'chat: channel',
      /incidents: incidents is defined once in a catalog; first at incidents\.yaml:12/,
    );
    dir = await demoWith({ 'more.yaml': 'incidents: [thread]\n' });
    await expectOnly(dir, 'more.yaml', 'incidents:', /incidents: incidents is a mapping/);
    dir = await demoWith({ [MITIGATION]: replace('  chat: thread\n', '  chat: thred\n') });
    await expectOnly(dir, MITIGATION, 'chat: thred', /incidents\.chat: Invalid option/);
  });

  it('reminders are 0 to 1440 minutes', async () => {
    const dir = await demoWith({ [MITIGATION]: replace('sev4: 0', 'sev4: 1441') });
    await expectOnly(dir, MITIGATION, 'sev4: 1441', /incidents\.reminder_minutes\.sev4: Too big/);
  });

  it('severity_confirm_roles name known roles that someone holds', async () => {
    let dir = await demoWith({
      [MITIGATION]: replace('[incident-commander]', '[commander]'),
    });
    await expectOnly(
      dir,
      MITIGATION,
      'severity_confirm_roles: [',
      /incidents\.severity_confirm_roles\[0\]: unknown role "commander"/,
    );
    dir = await demoWith({
      'more.yaml': 'roles:\n  - id: scribe\n',
      [MITIGATION]: replace('[incident-commander]', '[scribe]'),
    });
    await expectOnly(
      dir,
      MITIGATION,
      'severity_confirm_roles: [',
      /incidents\.severity_confirm_roles: no person holds one of these roles, so no one could confirm a severity/,
    );
  });

  it('the channel pattern makes Slack channel names', async () => {
    const withPattern = (p: string) =>
      demoWith({
        [MITIGATION]: replace('  chat: thread\n', `  chat: channel\n  channel_pattern: "${p}"\n`),
      });
    const cases: [string, RegExp][] = [
      [
        'inc-{day}-{service}',
        /unknown placeholder "\{day\}": use \{id\}, \{service\}, \{environment\}, \{date\}/,
      ],
      ['Inc-{id}', /only lower-case letters, digits, "-" and "_"/],
      ['incident', /needs a placeholder/],
      [`${'x'.repeat(81)}-{id}`, /its fixed part alone is 82 characters/],
      [
        `incident-of-${'x'.repeat(30)}-{environment}-{id}`,
        /channel_pattern: makes a channel name of 81 characters for checkout-api\/staging; a Slack channel name has 80 at most/,
      ],
    ];
    for (const [pattern, message] of cases) {
      await expectOnly(await withPattern(pattern), MITIGATION, 'channel_pattern: "', message);
    }
    const { errors } = await loadCatalog(await withPattern('inc-{date}-{service}-{environment}'));
    assert.deepEqual(errors, [], formatCatalogErrors(errors));
  });
});
