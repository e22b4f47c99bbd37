/**
 * How the local executor assembles `ExecutionOutcome.output`, and the helpers its two
 * runners share.
 *
 * Output layout (raw: redaction and the final size bound are the caller's):
 * - on success, the first line is the handler's result as compact JSON (which never holds
 *   a raw newline), so `output.split('\n', 1)[0]` parses back to the result;
 * - console output, when there is any, follows after a blank line and `--- logs ---`;
 * - on failure there is no result line: the output is only the logs section (or empty).
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { boundOutput, utf8Length } from '../../domain/redact.ts';

export const LOGS_HEADER = '--- logs ---';

/** An error with a chosen name, for the `name: message` text users see. */
export class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Accumulates console output up to `capBytes` bytes of UTF-8, counting what it drops. */
export class LogCollector {
  private readonly parts: string[] = [];
  private bytes = 0;
  private dropped = 0;

  constructor(readonly capBytes: number) {}

  readonly add = (text: string): void => {
    const size = utf8Length(text);
    const room = this.capBytes - this.bytes;
    if (size <= room) {
      this.parts.push(text);
      this.bytes += size;
      return;
    }
    if (room > 0) {
      this.parts.push(boundOutput(text, room, { tokenSafe: true }).text);
      this.bytes = this.capBytes;
    }
    this.dropped += size - Math.max(0, room);
  };

  /** Counts bytes a worker dropped before sending. */
  addDropped(bytes: number): void {
    this.dropped += bytes;
  }

  /** Bytes still accepted. */
  remaining(): number {
    return Math.max(0, this.capBytes - this.bytes);
  }

  text(): string {
    const logs = this.parts.join('');
    return this.dropped > 0 ? `${logs}\n… [${this.dropped} bytes of logs dropped]\n` : logs;
  }
}

/** Builds `ExecutionOutcome.output` from a result (absent on failure) and the logs. */
export function composeOutput(resultJson: string | undefined, logs: LogCollector): string {
  const logText = logs.text();
  const logSection = logText === '' ? '' : `${LOGS_HEADER}\n${logText.replace(/\n$/, '')}`;
  if (resultJson === undefined) return logSection;
  return logSection === '' ? resultJson : `${resultJson}\n\n${logSection}`;
}

/**
 * The absolute path of `path` inside `root`. Throws `HandlerPathError` for a path that
 * leaves the root (`../`, or an absolute path elsewhere): handler paths are catalog data.
 */
export function resolveInside(root: string, path: string): string {
  const absolute = resolve(root, path);
  const rel = relative(resolve(root), absolute);
  if (rel === '' || rel.split(sep)[0] === '..' || isAbsolute(rel)) {
    throw new NamedError('HandlerPathError', `${path} is outside the catalog folder`);
  }
  return absolute;
}

/** `name: message` of anything thrown, never a stack. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name || 'Error'}: ${err.message}`;
  return `Error: ${String(err)}`;
}
