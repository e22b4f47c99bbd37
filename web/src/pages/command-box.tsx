/**
 * The command box: one `/ops` line, the same grammar as Slack and the CLI, sent to
 * `POST /commands`. Answers read like chat replies; a refusal shows its sentence and code.
 * Up and Down recall earlier lines.
 */
import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react';
import { describeError, postJson } from '../api.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';
import type { CommandAnswer } from '../types.ts';

interface Exchange {
  id: number;
  text: string;
  answer?: CommandAnswer;
  refusal?: { message: string; code?: string };
}

/** The thread outlives the page (back from a request, it is still there), per person. */
const thread: { person: string; exchanges: Exchange[] } = { person: '', exchanges: [] };
let exchangeCount = 0;

/** Links to what an answer made or found, and to the review page for `approve <id>`. */
function AnswerLinks({ text, answer }: { text: string; answer?: CommandAnswer }) {
  const approveId = /^\s*approve\s+(REQ-[0-9A-Za-z]+)/.exec(text)?.[1];
  const links: [string, string][] = [];
  if (approveId) links.push([`/requests/${approveId}`, `Review and approve ${approveId}`]);
  if (answer?.request) links.push([`/requests/${answer.request.id}`, `Open ${answer.request.id}`]);
  if (answer?.incident) {
    links.push([`/incidents/${answer.incident.id}`, `Open ${answer.incident.id}`]);
  }
  const runId = answer?.view?.run.id ?? answer?.run?.id;
  if (runId) links.push([`/runs/${runId}`, `Open ${runId}`]);
  if (links.length === 0) return null;
  return (
    <p className="reply-links">
      {links.map(([to, label]) => (
        <Link key={to} to={to}>
          {label}
        </Link>
      ))}
    </p>
  );
}

/** Your lines and their answers, newest first, like a chat thread. */
function ReplyList({ exchanges }: { exchanges: Exchange[] }) {
  if (exchanges.length === 0) return null;
  return (
    <ol className="replies" aria-label="Your commands and their answers, newest first">
      {exchanges.map((x) => (
        <li key={x.id} className={x.refusal ? 'reply refused' : 'reply'}>
          <p className="said">
            <span aria-hidden="true">/ops </span>
            <code>{x.text}</code>
          </p>
          {x.refusal ? (
            <p className="refusal">
              {x.refusal.message}
              {x.refusal.code ? <code className="code">{x.refusal.code}</code> : null}
            </p>
          ) : (
            <pre className="answer">{x.answer?.text}</pre>
          )}
          <AnswerLinks text={x.text} {...(x.answer ? { answer: x.answer } : {})} />
        </li>
      ))}
    </ol>
  );
}

/** Sends a line to `POST /commands` and keeps the thread of lines and answers. */
function useCommandThread() {
  const { session } = useSession();
  const person = session.person.id;
  const [busy, setBusy] = useState(false);
  const [exchanges, setExchanges] = useState<Exchange[]>(() =>
    thread.person === person ? thread.exchanges : [],
  );
  const send = async (line: string) => {
    setBusy(true);
    const id = ++exchangeCount;
    let exchange: Exchange;
    try {
      const answer = await postJson<CommandAnswer>('/commands', { text: line });
      exchange = { id, text: line, answer };
    } catch (err) {
      exchange = { id, text: line, refusal: describeError(err) };
    }
    setExchanges((list) => {
      const next = [exchange, ...list].slice(0, 50);
      thread.person = person;
      thread.exchanges = next;
      return next;
    });
    setBusy(false);
  };
  return { busy, exchanges, send };
}

export function CommandBox() {
  const [text, setText] = useState('');
  const { busy, exchanges, send } = useCommandThread();
  const recall = useRef(-1);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const line = text.trim();
    if (!line || busy) return;
    await send(line);
    setText('');
    recall.current = -1;
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    const lines = exchanges.map((x) => x.text);
    if (lines.length === 0) return;
    e.preventDefault();
    const step = e.key === 'ArrowUp' ? 1 : -1;
    recall.current = Math.min(lines.length - 1, Math.max(-1, recall.current + step));
    setText(recall.current < 0 ? '' : (lines[recall.current] ?? ''));
  };

  const latest = exchanges[0];
  return (
    <section className="command-box" aria-labelledby="command-heading">
      <h2 id="command-heading">Command</h2>
      <form onSubmit={submit} className="command-form">
        <label htmlFor="command-line">
          An <code>/ops</code> line — try <code>help</code>
        </label>
        <div className="command-row">
          <span className="prompt" aria-hidden="true">
            /ops
          </span>
          <input
            id="command-line"
            type="text"
            autoComplete="off"
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKey}
            placeholder="status checkout-api prod"
            aria-describedby="command-hint"
          />
          <button type="submit" className="primary" disabled={busy || !text.trim()}>
            {busy ? 'Sending…' : 'Send'}
          </button>
        </div>
        <p id="command-hint" className="hint">
          Same grammar as Slack and the CLI. Up and Down recall earlier lines. Approvals are given
          on the request&rsquo;s page, bound to the digest you reviewed.
        </p>
      </form>
      <p className="visually-hidden" aria-live="polite">
        {latest ? (latest.refusal ? `Refused: ${latest.refusal.message}` : 'Answered.') : ''}
      </p>
      <ReplyList exchanges={exchanges} />
    </section>
  );
}
