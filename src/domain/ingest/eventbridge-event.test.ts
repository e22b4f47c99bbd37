import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { DomainError } from '../errors.ts';
import {
  isEventBridgeEvent,
  isoTime,
  isZeroTime,
  parseEventBridgeEvent,
  timestampMs,
} from './eventbridge-event.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(new URL(`../../../test/fixtures/ingest/${name}`, import.meta.url), 'utf8'),
  );

function refusal(body: unknown): DomainError {
  try {
    parseEventBridgeEvent(body);
  } catch (e) {
    const err = e as DomainError;
    assert.equal(err.code, 'INVALID_INPUT');
    return err;
  }
  return assert.fail('the body was accepted');
}

const minimal = {
  version: '0',
  id: '5b2c1e7a-0d3f-4a9b-8c6d-2e1f0a9b8c7d',
  'detail-type': 'Deploy Finished',
  source: 'com.example.deployer',
  account: '111122223333',
  time: '2024-03-14T12:00:00Z',
  region: 'eu-west-1',
  detail: { service: 'payments-api' },
};

describe('parseEventBridgeEvent', () => {
  it('keeps an AWS event as EventBridge sent it', () => {
    const body = fixture('eventbridge-alarm-metric-5xx.json');
    assert.deepEqual(parseEventBridgeEvent(body), body);
  });

  it('treats missing resources as none', () => {
    assert.deepEqual(parseEventBridgeEvent(minimal).resources, []);
  });

  it('drops top-level keys the envelope does not have', () => {
    const e = parseEventBridgeEvent({ ...minimal, extra: 'x' });
    assert.equal('extra' in e, false);
  });

  it('§8 39: keeps replay-name, so a replayed archive event is not taken for a new one', () => {
    const e = parseEventBridgeEvent({ ...minimal, 'replay-name': 'restore-2024-03-14' });
    assert.equal(e['replay-name'], 'restore-2024-03-14');
    assert.equal('replay-name' in parseEventBridgeEvent(minimal), false);
  });

  it('rewrites a time with an offset to UTC, and keeps a UTC one byte for byte', () => {
    assert.equal(
      parseEventBridgeEvent({ ...minimal, time: '2024-03-14T13:00:00+01:00' }).time,
      '2024-03-14T12:00:00Z',
    );
    assert.equal(
      parseEventBridgeEvent({ ...minimal, time: '2024-03-14T12:00:00.250Z' }).time,
      '2024-03-14T12:00:00.250Z',
    );
  });

  it('names the missing or wrong field', () => {
    const { id: _, ...noId } = minimal;
    assert.deepEqual(refusal(noId).details, { field: 'id' });
    assert.match(refusal(noId).message, /^EventBridge event: id is required$/);
    assert.match(refusal({ ...minimal, detail: 'x' }).message, /detail must be a JSON object/);
    assert.match(
      refusal({ ...minimal, resources: [1] }).message,
      /resources\[0\] must be a string/,
    );
    assert.match(refusal({ ...minimal, time: 'yesterday' }).message, /time must be an ISO-8601/);
    assert.match(refusal({ ...minimal, source: '' }).message, /source must not be empty/);
    assert.match(refusal({ ...minimal, account: 'EXAMPLE' }).message, /account must be a 12-digit/);
    assert.match(
      refusal({ ...minimal, region: 'Ireland' }).message,
      /region must be an AWS region/,
    );
    assert.equal(parseEventBridgeEvent({ ...minimal, account: '', region: '' }).account, '');
  });

  it('says the envelope spells detail-type with a hyphen when given detailType', () => {
    const { 'detail-type': dt, ...rest } = minimal;
    assert.match(refusal({ ...rest, detailType: dt }).message, /detail-type is required.*hyphen/);
  });

  it('refuses an array: an API destination sends one event per call', () => {
    assert.match(refusal([minimal, minimal]).message, /one event object, got an array/);
    assert.match(refusal('text').message, /must be a JSON object/);
    assert.match(refusal(null).message, /must be a JSON object/);
  });

  it('tells an EventBridge event from other JSON', () => {
    assert.equal(isEventBridgeEvent(minimal), true);
    assert.equal(isEventBridgeEvent({ AlarmName: 'x', NewStateValue: 'ALARM' }), false);
    assert.equal(isEventBridgeEvent({ ...minimal, detail: 'x' }), false);
  });
});

describe('timestamps', () => {
  it('reads CloudWatch +0000, Go nanoseconds and -05:00 offsets to the millisecond', () => {
    assert.equal(isoTime('2019-10-02T17:04:40.989+0000'), '2019-10-02T17:04:40.989Z');
    assert.equal(isoTime('2018-03-07T06:33:21.873077559-05:00'), '2018-03-07T11:33:21.873Z');
    assert.equal(isoTime('2019-09-27T16:27:56.612666101Z'), '2019-09-27T16:27:56.612Z');
    assert.equal(isoTime('2024-03-14T09:07:30+01:00'), '2024-03-14T08:07:30.000Z');
  });

  it('reads RFC 1123 (AWS Health) and refuses what is not a time', () => {
    assert.equal(isoTime('Sat, 05 Jun 2016 15:10:09 GMT'), '2016-06-05T15:10:09.000Z');
    assert.equal(timestampMs('2024-02-31T00:00:00Z'), undefined);
    assert.equal(timestampMs('12345'), undefined);
    assert.equal(timestampMs(''), undefined);
  });

  it("knows Go's zero time, and reads it as year 1, not 1901", () => {
    assert.equal(isZeroTime('0001-01-01T00:00:00Z'), true);
    assert.equal(isZeroTime('2024-01-01T00:00:00Z'), false);
    assert.equal(isoTime('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00.000Z');
  });
});
