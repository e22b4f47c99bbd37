/**
 * The process logger: pino JSON lines (so a newline or ANSI escape in a value can never
 * forge a log line), with every field that can carry a secret redacted by path.
 */
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-slack-signature"]',
  'headers.authorization',
  'authorization',
  'token',
  'password',
  'secret',
  '*.token',
  '*.password',
  '*.secret',
  '*.botToken',
  '*.signingSecret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      base: { service: 'countersign' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
