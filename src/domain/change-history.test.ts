/**
 * Change history over our own small fixtures (test/fixtures/changes) and over the samples
 * AWS publishes (../shared/fixtures/published-samples), which are skipped, with a notice,
 * where that folder is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { command, testCatalog } from '../../test/support/catalog-fixture.ts';
import type { Service } from './catalog.ts';
import {
  changeFromEvent,
  changeFromRequest,
  isDeployCommand,
  nameParts,
  serviceNamed,
} from './change-history.ts';
import type { EventEnvelope } from './event-envelope.ts';
import type { ActionRequest } from './request-model.ts';

const ours = new URL('../../test/fixtures/changes/', import.meta.url);
const published = new URL('../../../shared/fixtures/published-samples/', import.meta.url);
const present = existsSync(published);
if (!present) console.log(`change-history: ${published.pathname} is absent; skipping`);

const event = (folder: URL, name: string): EventEnvelope =>
  JSON.parse(readFileSync(new URL(name, folder), 'utf8')) as EventEnvelope;

const service = (id: string, envs: [string, string, string?][]): Service => ({
  id,
  team: 'payments',
  environments: envs.map(([name, awsAccount, region]) => ({
    name,
    awsAccount,
    ...(region ? { region } : {}),
  })),
  channels: {},
});

const catalog = testCatalog({
  services: [
    service('checkout', [
      ['staging', '111111111111', 'eu-west-1'],
      ['prod', '222222222222', 'eu-west-1'],
    ]),
    service('checkout-api', [
      ['staging', '111111111111', 'eu-west-1'],
      ['prod', '222222222222', 'eu-west-1'],
    ]),
  ],
});

describe('change history: our fixtures', () => {
  const change = (name: string) => changeFromEvent(event(ours, name), catalog);

  it('an ECS deployment state change is a deploy of the service in the ARN', () => {
    assert.deepEqual(change('ecs-deployment-prod.json'), {
      id: '0e4a8d6c-ecs1-4c2b-9f0e-000000000001',
      service: 'checkout-api',
      environment: 'prod',
      kind: 'deploy',
      source: 'ecs',
      summary:
        'ECS deployment ecs-svc/4711 FAILED: ECS deployment circuit breaker: task failed to start.',
      at: Date.parse('2026-11-25T11:58:00Z'),
      ref: '0e4a8d6c-ecs1-4c2b-9f0e-000000000001',
    });
  });

  it('CodeDeploy: the longest matching id wins (checkout-api over checkout)', () => {
    const c = change('codedeploy-deployment-staging.json');
    assert.equal(c?.service, 'checkout-api');
    assert.equal(c?.environment, 'staging');
    assert.equal(c?.kind, 'deploy');
    assert.equal(
      c?.summary,
      'CodeDeploy deployment d-CHECKOUT1 SUCCESS (checkout/checkout-api-blue-green)',
    );
  });

  it('an AWS Config item change is a config change', () => {
    const c = change('config-lambda-prod.json');
    assert.equal(c?.kind, 'config');
    assert.equal(c?.source, 'config');
    assert.equal(c?.service, 'checkout-api');
    assert.equal(c?.summary, 'Config AWS::Lambda::Function checkout-api-webhooks UPDATE');
  });

  it('CloudTrail: a deploying call is a deploy, by the caller, found in requestParameters', () => {
    const c = change('cloudtrail-ecs-update-service-prod.json');
    assert.equal(c?.kind, 'deploy');
    assert.equal(c?.source, 'cloudtrail');
    assert.equal(c?.service, 'checkout-api');
    assert.equal(c?.environment, 'prod');
    assert.equal(c?.actor, 'arn:aws:sts::222222222222:assumed-role/deployer/alice');
    assert.equal(c?.summary, 'CloudTrail ecs.amazonaws.com UpdateService');
  });

  it('CloudTrail: any other management write is a config change', () => {
    const c = change('cloudtrail-ssm-put-parameter-prod.json');
    assert.equal(c?.kind, 'config');
    assert.equal(c?.service, 'checkout-api');
    assert.equal(c?.actor, 'arn:aws:iam::222222222222:user/bob');
  });

  it('CloudTrail: read-only and failed calls are no change', () => {
    assert.equal(change('cloudtrail-ecs-describe-services-prod.json'), undefined);
    assert.equal(change('cloudtrail-ecs-update-service-denied.json'), undefined);
    const e = event(ours, 'cloudtrail-ssm-put-parameter-prod.json');
    const flagged = { ...e, detail: { ...e.detail, readOnly: true } };
    assert.equal(changeFromEvent(flagged, catalog), undefined);
    const data = { ...e, detail: { ...e.detail, eventCategory: 'Data' } };
    assert.equal(changeFromEvent(data, catalog), undefined);
  });

  it('no service, or no environment for the account, is no change', () => {
    const e = event(ours, 'ecs-deployment-prod.json');
    assert.equal(changeFromEvent({ ...e, account: '999999999999' }, catalog), undefined);
    assert.equal(changeFromEvent(e, testCatalog({ services: [] })), undefined);
    const other = { ...e, resources: ['arn:aws:ecs:eu-west-1:222222222222:service/x/search'] };
    assert.equal(changeFromEvent(other, catalog), undefined);
  });

  it('other kinds of event are no change', () => {
    const e = event(ours, 'ecs-deployment-prod.json');
    assert.equal(
      changeFromEvent({ ...e, 'detail-type': 'ECS Task State Change' }, catalog),
      undefined,
    );
    assert.equal(changeFromEvent({ ...e, source: 'custom.ecs' }, catalog), undefined);
  });
});

describe('change history: service matching', () => {
  const s = (id: string) => service(id, []);

  it('ARNs count by their resource part without the type; S3 keeps bucket and key', () => {
    assert.deepEqual(nameParts('arn:aws:ecs:us-west-2:1:service/default/servicetest'), [
      'default',
      'servicetest',
    ]);
    assert.deepEqual(nameParts('arn:aws:codedeploy:r:1:application:myApp'), ['myApp']);
    assert.deepEqual(nameParts('arn:aws:s3:::bucket-a/key.png'), ['bucket-a', 'key.png']);
    assert.deepEqual(nameParts('arn:aws:sns:r:1:topic-x'), ['topic-x']);
    assert.deepEqual(nameParts('plain-name'), ['plain-name']);
  });

  it('an id matches between non-alphanumerics, case-insensitively', () => {
    const api = [s('checkout-api')];
    assert.equal(serviceNamed(api, ['prod/checkout-api'])?.id, 'checkout-api');
    assert.equal(serviceNamed(api, ['Checkout-API-prod'])?.id, 'checkout-api');
    assert.equal(serviceNamed(api, ['checkout-apiv2']), undefined);
    assert.equal(serviceNamed(api, ['precheckout-api']), undefined);
    // the resource type never matches: a service called "service" is not in every ECS ARN
    assert.equal(serviceNamed([s('service')], ['arn:aws:ecs:r:1:service/c/x']), undefined);
  });

  it('a tie between two services of the same id length is ambiguous', () => {
    const both = [s('orders-api'), s('search-api')];
    assert.equal(serviceNamed(both, ['orders-api-to-search-api']), undefined);
    assert.equal(serviceNamed(both, ['search-api'])?.id, 'search-api');
  });
});

describe('change history: our own executions', () => {
  const request = (extra: Partial<ActionRequest>): ActionRequest => ({
    id: 'REQ-1',
    command: 'deploy',
    service: 'checkout-api',
    environment: 'prod',
    class: 'mutating',
    params: { version: '1.4.2' },
    links: { ticket: 'CHG-1' },
    requester: 'alice',
    surface: 'slack',
    digest: 'd',
    state: 'succeeded',
    requirements: [],
    signOffs: [],
    execution: { attempt: 1, startedAt: 1000, finishedAt: 5000, outcome: 'succeeded' },
    createdAt: 10,
    updatedAt: 6000,
    expiresAt: 99,
    version: 4,
    ...extra,
  });
  const cat = testCatalog();

  it('a succeeded deploy is a deploy at the time it finished', () => {
    assert.deepEqual(changeFromRequest(request({}), cat), {
      id: 'REQ-1',
      service: 'checkout-api',
      environment: 'prod',
      kind: 'deploy',
      source: 'countersign',
      summary: 'deploy version=1.4.2 by alice (REQ-1)',
      actor: 'alice',
      at: 5000,
      ref: 'REQ-1',
    });
  });

  it('the declared rollback of a versioned command is a deploy; others are config', () => {
    assert.equal(isDeployCommand(cat.commands, 'deploy'), true);
    assert.equal(isDeployCommand(cat.commands, 'rollback'), true);
    assert.equal(isDeployCommand(cat.commands, 'flush-cache'), false);
    const r = changeFromRequest(request({ command: 'rollback', params: {} }), cat);
    assert.equal(r?.kind, 'deploy');
    assert.equal(r?.summary, 'rollback by alice (REQ-1)');
    const f = changeFromRequest(
      request({ command: 'flush-cache', class: 'destructive', params: {} }),
      cat,
    );
    assert.equal(f?.kind, 'config');
  });

  it('only succeeded mutating requests count', () => {
    assert.equal(changeFromRequest(request({ state: 'failed' }), cat), undefined);
    assert.equal(changeFromRequest(request({ state: 'unknown' }), cat), undefined);
    assert.equal(
      changeFromRequest(request({ class: 'read-only', command: 'status' }), cat),
      undefined,
    );
  });

  it('sensitive and undeclared parameters are redacted', () => {
    const c = testCatalog({
      commands: [
        command('rotate', 'mutating', {
          params: [
            { name: 'key', type: 'string', required: true, sensitive: true },
            { name: 'zone', type: 'string', required: true, sensitive: false },
          ],
        }),
      ],
    });
    const r = request({
      command: 'rotate',
      params: { key: 's3cr3t-value', zone: 'a', extra: 'x' },
    });
    assert.equal(
      changeFromRequest(r, c)?.summary,
      'rotate key=[REDACTED] zone=a extra=[REDACTED] by alice (REQ-1)',
    );
  });
});

describe('change history: published samples', {
  skip: !present && 'the samples folder is absent',
}, () => {
  const samples = testCatalog({
    services: [
      service('servicetest', [['prod', '111122223333', 'us-west-2']]),
      service('myapplication', [['prod', '123456789012']]),
      service('fs-01f0d526165b57f95', [['prod', '123456789012']]),
      service('username-sfn-tutorial', [['prod', '123456789012']]),
    ],
  });
  const change = (name: string) => changeFromEvent(event(published, name), samples);

  it('ECS deployment state changes, every published state', () => {
    const expected: Record<string, string> = {
      completed: 'ECS deployment ecs-svc/123 COMPLETED',
      failed:
        'ECS deployment ecs-svc/123 FAILED: ECS deployment circuit breaker: task failed to start.',
      'in-progress': 'ECS deployment ecs-svc/123 IN_PROGRESS',
      'in-progress-rollback':
        'ECS deployment ecs-svc/123 IN_PROGRESS: ECS deployment circuit breaker: rolling back to deploymentId deploymentID.',
    };
    for (const [state, summary] of Object.entries(expected)) {
      const c = change(`eventbridge-ecs-deployment-state-change-${state}.json`);
      assert.equal(c?.summary, summary, state);
      assert.equal(c?.service, 'servicetest');
      assert.equal(c?.environment, 'prod');
      assert.equal(c?.kind, 'deploy');
      assert.equal(c?.at, Date.parse('2020-05-23T12:31:14Z'));
    }
  });

  it('a CodeDeploy deployment (application name in mixed case)', () => {
    const c = change('eventbridge-codedeploy-deployment-state-change-success.json');
    assert.equal(c?.id, 'c071bfbf-83c4-49ca-a6ff-3df053957145');
    assert.equal(c?.service, 'myapplication');
    assert.equal(
      c?.summary,
      'CodeDeploy deployment d-123456789 SUCCESS (myApplication/myDeploymentGroup)',
    );
    assert.equal(change('eventbridge-codedeploy-instance-state-change.json'), undefined);
  });

  it('an AWS Config item change', () => {
    const c = change('eventbridge-config-configuration-item-change.json');
    assert.equal(c?.kind, 'config');
    assert.equal(c?.service, 'fs-01f0d526165b57f95');
    assert.equal(c?.summary, 'Config AWS::EFS::FileSystem fs-01f0d526165b57f95 UPDATE');
  });

  it('CloudTrail S3 PutObject is a data event (an object-level call), not a change', () => {
    assert.equal(change('eventbridge-cloudtrail-aws-api-call-s3-putobject.json'), undefined);
    // …while the same call on the bucket itself would be a management write
    const e = event(published, 'eventbridge-cloudtrail-aws-api-call-s3-putobject.json');
    const bucketCall = {
      ...e,
      detail: { ...e.detail, eventName: 'PutBucketPolicy', resources: [] },
    };
    const c = changeFromEvent(bucketCall, samples);
    assert.equal(c?.kind, 'config');
    assert.equal(c?.service, 'username-sfn-tutorial');
    assert.equal(c?.actor, 'arn:aws:iam::123456789012:user/username');
  });

  it('nothing else published is a change', () => {
    for (const name of [
      'eventbridge-ecs-task-state-change.json',
      'eventbridge-aws-health-event-ec2-issue.json',
      'eventbridge-cloudwatch-alarm-state-change-metric-alarm.json',
    ]) {
      assert.equal(change(name), undefined, name);
    }
  });
});
