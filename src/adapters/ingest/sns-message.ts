/**
 * The JSON body Amazon SNS POSTs to an HTTP/S subscription, parsed and checked for shape only
 * (no signature: that is `sns-verify.ts`). Field sets follow the AWS developer guide's
 * "Parsing message formats" page. SNS sends `Content-Type: text/plain; charset=UTF-8` with a
 * JSON body, so the body may arrive as a string or bytes as well as already parsed.
 *
 * Refusals are `DomainError('INVALID_INPUT')` whose message names the field that is wrong.
 * A Lambda-shaped record (`Records[].Sns`, `EventSource: aws:sns`, `SigningCertUrl` casing)
 * is refused explicitly rather than normalised: this endpoint only ever receives HTTP/S
 * deliveries, and a Lambda event here means something is forwarding or replaying.
 */
import * as z from 'zod';
import { DomainError } from '../../domain/errors.ts';

export const SNS_MESSAGE_TYPES = [
  'Notification',
  'SubscriptionConfirmation',
  'UnsubscribeConfirmation',
] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

/** The header SNS sets to the body's `Type` on every HTTP/S delivery. */
export const SNS_TYPE_HEADER = 'x-amz-sns-message-type';

/** `arn:<partition>:sns:<region>:<account>:<topic>`; the account is loose because AWS's own
 * published samples redact it (`XXXXXXXX`). No control characters can pass. */
const TOPIC_ARN =
  /^arn:(aws[a-z-]*):sns:([a-z0-9-]{1,32}):([A-Za-z0-9]{1,32}):([A-Za-z0-9_.-]{1,256})$/;
/** SNS writes UTC with milliseconds (`2012-05-02T00:54:06.655Z`); the fraction is optional. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const text = (field: string) =>
  z.string({
    error: (i) => (i.input === undefined ? `${field} is missing` : `${field} must be a string`),
  });

const common = {
  MessageId: text('MessageId').min(1, 'MessageId is empty').max(256, 'MessageId is too long'),
  TopicArn: text('TopicArn').regex(TOPIC_ARN, 'TopicArn is not an SNS topic ARN'),
  Timestamp: text('Timestamp').regex(TIMESTAMP, 'Timestamp is not ISO-8601 UTC'),
  /** Checked with the signature (`sns-verify.ts`), so a missing one gets that refusal. */
  SignatureVersion: z.string().optional(),
  Signature: text('Signature').min(1, 'Signature is empty'),
  SigningCertURL: text('SigningCertURL').min(1, 'SigningCertURL is empty'),
};

const notificationSchema = z.object({
  Type: z.literal('Notification'),
  ...common,
  Subject: text('Subject').optional(),
  /**
   * A string on every real delivery (plain text, or JSON text such as a CloudWatch alarm).
   * AWS Config's documentation sample shows `Message` as a JSON *object*; it is accepted and
   * kept as an object so that sample parses, and the normaliser handles both forms. Such a
   * body cannot carry a verifiable signature (SNS signs a string), so `verifySnsDelivery`
   * refuses it with `SIGNATURE_INVALID` and says why.
   */
  Message: z.union([z.string(), z.record(z.string(), z.unknown())], {
    error: (i) => (i.input === undefined ? 'Message is missing' : 'Message must be a string'),
  }),
  UnsubscribeURL: z.string().optional(),
  MessageAttributes: z
    .record(z.string(), z.object({ Type: z.string(), Value: z.string() }), {
      error: 'MessageAttributes must map names to {Type, Value}',
    })
    .optional(),
});

const confirmation = <T extends 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'>(type: T) =>
  z.object({
    Type: z.literal(type),
    ...common,
    Token: text('Token').min(1, 'Token is empty'),
    Message: text('Message'),
    SubscribeURL: text('SubscribeURL').min(1, 'SubscribeURL is empty'),
  });

const SCHEMAS = {
  Notification: notificationSchema,
  SubscriptionConfirmation: confirmation('SubscriptionConfirmation'),
  UnsubscribeConfirmation: confirmation('UnsubscribeConfirmation'),
} as const;

export type SnsNotification = z.infer<typeof notificationSchema>;
export type SnsSubscriptionConfirmation = z.infer<(typeof SCHEMAS)['SubscriptionConfirmation']>;
export type SnsUnsubscribeConfirmation = z.infer<(typeof SCHEMAS)['UnsubscribeConfirmation']>;
export type SnsConfirmation = SnsSubscriptionConfirmation | SnsUnsubscribeConfirmation;
/** One SNS HTTP/S delivery body, field names exactly as SNS sends them. */
export type SnsMessage = SnsNotification | SnsConfirmation;

export type HttpHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Parses a delivery body and checks that the `x-amz-sns-message-type` header names the
 * same type as the body (a mismatch is refused: §8 33). The `x-amz-sns-message-id` and
 * `x-amz-sns-topic-arn` headers, when present, must also agree with the body.
 */
export function parseSnsDelivery(body: unknown, headers: HttpHeaders): SnsMessage {
  const message = parseSnsMessage(body);
  const type = header(headers, SNS_TYPE_HEADER);
  if (type === undefined) invalid(`the ${SNS_TYPE_HEADER} header is missing`);
  if (type !== message.Type) {
    invalid(`the ${SNS_TYPE_HEADER} header does not match the body's Type (${message.Type})`);
  }
  const id = header(headers, 'x-amz-sns-message-id');
  if (id !== undefined && id !== message.MessageId) {
    invalid("the x-amz-sns-message-id header does not match the body's MessageId");
  }
  const topic = header(headers, 'x-amz-sns-topic-arn');
  if (topic !== undefined && topic !== message.TopicArn) {
    invalid("the x-amz-sns-topic-arn header does not match the body's TopicArn");
  }
  return message;
}

/** Parses a delivery body (string, bytes or parsed JSON) without looking at headers. */
export function parseSnsMessage(body: unknown): SnsMessage {
  const value = decodeBody(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid('the body is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  refuseLambdaShape(record);
  const type = record.Type;
  if (type === undefined) invalid('Type is missing');
  if (typeof type !== 'string' || !(SNS_MESSAGE_TYPES as readonly string[]).includes(type)) {
    invalid(`Type must be one of ${SNS_MESSAGE_TYPES.join(', ')}`);
  }
  const parsed = SCHEMAS[type as SnsMessageType].safeParse(record);
  if (!parsed.success) invalid(firstIssue(parsed.error));
  return parsed.data;
}

/** The parts of a topic ARN, or undefined when it is not one. */
export function topicArnParts(
  arn: string,
): { partition: string; region: string; account: string; topic: string } | undefined {
  const m = TOPIC_ARN.exec(arn);
  if (!m) return undefined;
  const [, partition = '', region = '', account = '', topic = ''] = m;
  return { partition, region, account, topic };
}

function decodeBody(body: unknown): unknown {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return body;
  const raw = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  try {
    return JSON.parse(raw);
  } catch {
    return invalid('the body is not JSON (SNS sends JSON with Content-Type text/plain)');
  }
}

function refuseLambdaShape(record: Record<string, unknown>): void {
  const lambdaShaped =
    Array.isArray(record.Records) ||
    record.EventSource === 'aws:sns' ||
    'Sns' in record ||
    'SigningCertUrl' in record ||
    'UnsubscribeUrl' in record;
  if (lambdaShaped) {
    invalid(
      'this is a Lambda-shaped SNS record (Records[].Sns, SigningCertUrl casing), not an ' +
        'SNS HTTP/S delivery; subscribe this HTTPS endpoint to the topic instead of forwarding',
    );
  }
}

function header(headers: HttpHeaders, name: string): string | undefined {
  const values = Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .flatMap(([, value]) => (value === undefined ? [] : Array.isArray(value) ? value : [value]));
  if (values.length > 1) invalid(`the ${name} header is repeated`);
  return values[0];
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the body is not an SNS message';
  const field = issue.path.map(String).join('.');
  // Messages from the schema above already name their field; zod's defaults do not.
  return field && !issue.message.startsWith(field.split('.')[0] ?? '')
    ? `${field}: ${issue.message}`
    : issue.message;
}

function invalid(message: string): never {
  throw new DomainError('INVALID_INPUT', `Not an SNS HTTP/S delivery: ${message}`);
}
