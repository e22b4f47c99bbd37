/**
 * A local fake of Slack's Socket Mode server, on the `ws` package, speaking the protocol of
 * Slack's "Socket Mode implementation" guide:
 *
 *  - `apps.connections.open`, called with the app-level token as a bearer token, answers
 *    `{ ok: true, url: "wss://…/link/?ticket=…&app_id=…" }`; a wrong token gets
 *    `{ ok: false, error: "invalid_auth" }`. Each ticket opens one connection.
 *  - On connecting, the server sends `{ type: "hello", num_connections, debug_info,
 *    connection_info: { app_id } }`.
 *  - Deliveries come as envelopes `{ envelope_id, type: "events_api" | "slash_commands" |
 *    "interactive", payload, accepts_response_payload }` (Events API envelopes also carry
 *    `retry_attempt` and `retry_reason`); the app acks each with `{ envelope_id, payload? }`.
 *  - `{ type: "disconnect", reason: "refresh_requested" | "warning" | … }` asks the app to
 *    open a new connection.
 *
 * Wire it to the fake Web API: `fakeSlack.onConnectionsOpen((t) => socket.connectionsOpen(t))`.
 * Every message the app sends is recorded with the connection it came on.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type BlockActionFields,
  blockActionsPayload,
  eventCallbackBody,
  SLACK_TEST,
  type SlashCommandFields,
  slashCommandBody,
} from './slack.ts';
import { waitFor } from './wait.ts';

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

export interface SentEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: unknown;
  /** Milliseconds since epoch when it was sent. */
  at: number;
  /** The connection (1-based) it was sent on. */
  connection: number;
}

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** Milliseconds since epoch when it arrived. */
  at: number;
  connection: number;
}

export interface FakeConnection {
  /** 1-based, in the order connections were accepted. */
  id: number;
  /** The ticket of the URL it connected with. */
  ticket: string;
  isOpen(): boolean;
  /** Resolves with the close code and reason once the socket is closed. */
  closed: Promise<{ code: number; reason: string }>;
}

export interface EnvelopeOptions {
  envelopeId?: string;
  retryAttempt?: number;
  retryReason?: string;
  acceptsResponsePayload?: boolean;
}

export interface FakeSocketMode {
  /** The answer for `apps.connections.open` carrying `token`. */
  connectionsOpen(token: string): Record<string, unknown>;
  /** Connections accepted so far, oldest first (each was sent `hello`). */
  connections: FakeConnection[];
  /** Waits for the `n`-th connection (1-based). */
  connection(n: number, ms?: number): Promise<FakeConnection>;
  /** Connections refused at the upgrade (unknown or reused ticket). */
  refused: number;
  sent: SentEnvelope[];
  acks: SocketAck[];
  /** Anything else the app sent (not an ack), as text. */
  other: string[];
  /** Sends an envelope on the newest open connection; returns its id at once. */
  push(type: EnvelopeType, payload: unknown, options?: EnvelopeOptions): string;
  /** Sends an envelope and waits for its ack. */
  send(type: EnvelopeType, payload: unknown, options?: EnvelopeOptions): Promise<SocketAck>;
  /** Waits for the ack of `envelopeId`. */
  ackOf(envelopeId: string, ms?: number): Promise<SocketAck>;
  /** Sends text as it is (to test malformed messages). */
  sendRaw(text: string): void;
  /** Sends `{ type: "disconnect", reason }` on the newest open connection. */
  disconnect(reason: string): void;
  /** Ends the newest open connection without a close frame, as a dropped network would. */
  drop(): void;
  close(): Promise<void>;
}

export async function startFakeSocketMode(options: {
  appToken: string;
  appId?: string;
}): Promise<FakeSocketMode> {
  const appId = options.appId ?? SLACK_TEST.appId;
  const tickets = new Set<string>();
  const sockets = new Map<number, WebSocket>();
  let refused = 0;
  const fake = {
    connections: [] as FakeConnection[],
    sent: [] as SentEnvelope[],
    acks: [] as SocketAck[],
    other: [] as string[],
  };
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/link/',
    verifyClient: (info, done) => {
      const ticket = new URL(info.req.url ?? '/', 'http://fake').searchParams.get('ticket') ?? '';
      if (!tickets.delete(ticket)) {
        refused += 1;
        return done(false, 401, 'unknown ticket');
      }
      done(true);
    },
  });
  await new Promise<void>((r) => wss.once('listening', r));
  const base = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link/`;

  wss.on('connection', (ws, req) => {
    const id = fake.connections.length + 1;
    const ticket = new URL(req.url ?? '/', 'http://fake').searchParams.get('ticket') ?? '';
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    sockets.set(id, ws);
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      const message = tryParse(text);
      if (message && typeof message.envelope_id === 'string') {
        fake.acks.push({
          envelope_id: message.envelope_id,
          ...(message.payload !== undefined
            ? { payload: message.payload as Record<string, unknown> }
            : {}),
          at: Date.now(),
          connection: id,
        });
      } else {
        fake.other.push(text);
      }
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: [...sockets.values()].filter(isOpen).length,
        debug_info: {
          host: `applink-fake-${id}`,
          build_number: 1,
          approximate_connection_time: 18_060,
        },
        connection_info: { app_id: appId },
      }),
    );
    fake.connections.push({ id, ticket, isOpen: () => isOpen(ws), closed });
  });

  const newest = (): { id: number; ws: WebSocket } => {
    const open = [...sockets.entries()].filter(([, ws]) => isOpen(ws)).at(-1);
    if (!open) throw new Error('fake Socket Mode: no open connection');
    return { id: open[0], ws: open[1] };
  };
  const ackOf = (envelopeId: string, ms = 5_000) =>
    waitFor(
      `the ack of ${envelopeId}`,
      () => fake.acks.find((a) => a.envelope_id === envelopeId),
      ms,
    );
  const push = (type: EnvelopeType, payload: unknown, o: EnvelopeOptions = {}): string => {
    const { id, ws } = newest();
    const envelopeId = o.envelopeId ?? randomUUID();
    const envelope = {
      envelope_id: envelopeId,
      payload,
      type,
      accepts_response_payload: o.acceptsResponsePayload ?? type !== 'events_api',
      ...(type === 'events_api'
        ? { retry_attempt: o.retryAttempt ?? 0, retry_reason: o.retryReason ?? '' }
        : {}),
    };
    fake.sent.push({ envelope_id: envelopeId, type, payload, at: Date.now(), connection: id });
    ws.send(JSON.stringify(envelope));
    return envelopeId;
  };

  return {
    ...fake,
    get refused() {
      return refused;
    },
    connectionsOpen(token) {
      if (token !== options.appToken) return { ok: false, error: 'invalid_auth' };
      const ticket = randomUUID();
      tickets.add(ticket);
      return { ok: true, url: `${base}?ticket=${ticket}&app_id=${appId}` };
    },
    connection: (n, ms = 10_000) => waitFor(`connection ${n}`, () => fake.connections[n - 1], ms),
    push,
    send: (type, payload, o) => ackOf(push(type, payload, o)),
    ackOf,
    sendRaw: (text) => newest().ws.send(text),
    disconnect: (reason) =>
      newest().ws.send(
        JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }),
      ),
    drop: () => newest().ws.terminate(),
    close: () =>
      new Promise<void>((r) => {
        for (const ws of sockets.values()) ws.terminate();
        wss.close(() => r());
      }),
  };
}

const isOpen = (ws: WebSocket) => ws.readyState === ws.OPEN;

function tryParse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A slash command as Socket Mode carries it: the form's fields as a JSON object of strings. */
export function slashCommandPayload(f: SlashCommandFields): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(slashCommandBody(f)));
}

/** A `block_actions` payload, as `interactive` envelopes carry it. */
export function interactivePayload(f: BlockActionFields): Record<string, unknown> {
  return blockActionsPayload(f);
}

/** An Events API `event_callback`, as `events_api` envelopes carry it. */
export function eventsApiPayload(f: {
  event: Record<string, unknown>;
  eventId?: string;
}): Record<string, unknown> {
  return JSON.parse(eventCallbackBody(f)) as Record<string, unknown>;
}

export { waitFor };
