/**
 * How a runbook's steps link up. A step goes to `next`, else to the step below it (`end`
 * after the last one); a decision goes only where its branches say; a command may also go
 * to `on_failure` and a wait to `on_timeout`. Checked: step ids are unique, every target
 * is a step of the runbook or `end`, every step can be reached from the first, and no
 * loop runs by itself forever: a loop needs a step where a person acts (a command, check
 * or decision), not only notify and wait steps.
 */
import type { RunbookStep } from '../domain/runbook-model.ts';
import type { PathSegment } from './check-catalog.ts';

/** Reports a problem at a path below the runbook (`['steps', 2, 'next']`). */
type StepReport = (path: PathSegment[], message: string) => void;

/** One way out of a step: where it leads, and the YAML path that says so. */
interface Edge {
  target: string;
  /** Below the step; `['next']` also for the implicit step-below-it. */
  path: PathSegment[];
  /** False for the implicit fall-through, which needs no checking. */
  explicit: boolean;
}

export function checkRunbookSteps(steps: readonly RunbookStep[], report: StepReport): void {
  if (!uniqueIds(steps, report)) return; // the links would be ambiguous
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const edges = steps.map((_, i) => edgesOf(steps, i));
  let linked = true;
  edges.forEach((out, i) => {
    for (const e of out) {
      if (e.explicit && e.target !== 'end' && !index.has(e.target)) {
        const ids = steps.map((s) => s.id).join(', ');
        report(
          ['steps', i, ...e.path],
          `no step "${e.target}" in this runbook (has ${ids}), nor end`,
        );
        linked = false;
      }
    }
  });
  if (!linked) return; // a step it leaves unreached may be the one the typo meant
  const targets = edges.map((out) => out.flatMap((e) => index.get(e.target) ?? []));
  reportUnreachable(steps, targets, report);
  reportUnattendedLoops(steps, edges, index, report);
}

function uniqueIds(steps: readonly RunbookStep[], report: StepReport): boolean {
  const first = new Map<string, number>();
  let unique = true;
  steps.forEach((s, i) => {
    const at = first.get(s.id);
    if (at === undefined) {
      first.set(s.id, i);
      return;
    }
    unique = false;
    report(['steps', i, 'id'], `step id "${s.id}" is already used by step ${at + 1}`);
  });
  return unique;
}

function edgesOf(steps: readonly RunbookStep[], i: number): Edge[] {
  const step = steps[i]!;
  if (step.kind === 'decision') {
    return step.branches.map((b, j) => ({
      target: b.next,
      path: ['branches', j, 'next'],
      explicit: true,
    }));
  }
  const out: Edge[] = [
    step.next === undefined
      ? { target: steps[i + 1]?.id ?? 'end', path: ['next'], explicit: false }
      : { target: step.next, path: ['next'], explicit: true },
  ];
  if (step.kind === 'command' && step.onFailure !== undefined) {
    out.push({ target: step.onFailure, path: ['on_failure'], explicit: true });
  }
  if (step.kind === 'wait' && step.onTimeout !== undefined) {
    out.push({ target: step.onTimeout, path: ['on_timeout'], explicit: true });
  }
  return out;
}

function reportUnreachable(
  steps: readonly RunbookStep[],
  targets: number[][],
  report: StepReport,
): void {
  const seen = new Set([0]);
  const queue = [0];
  for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
    for (const t of targets[i] ?? []) {
      if (!seen.has(t)) [seen.add(t), queue.push(t)];
    }
  }
  steps.forEach((s, i) => {
    if (seen.has(i)) return;
    const why = `step "${s.id}" is never reached from the first step "${steps[0]!.id}"`;
    report(
      ['steps', i, 'id'],
      `${why}: lead to it with next, a branch or on_failure, or remove it`,
    );
  });
}

/** Steps that go on by themselves, without a person acting. */
const unattended = (s: RunbookStep) => s.kind === 'notify' || s.kind === 'wait';

/**
 * Every loop made only of unattended steps (a strongly connected set of them, or one that
 * leads to itself), reported once at the link from its first step into it.
 */
function reportUnattendedLoops(
  steps: readonly RunbookStep[],
  edges: Edge[][],
  index: Map<string, number>,
  report: StepReport,
): void {
  const inner = (i: number) =>
    unattended(steps[i]!)
      ? edges[i]!.flatMap((e) => {
          const t = index.get(e.target);
          return t !== undefined && unattended(steps[t]!) ? [{ t, e }] : [];
        })
      : [];
  for (const loop of stronglyConnected(steps.length, (i) => inner(i).map((x) => x.t))) {
    const first = Math.min(...loop);
    const link = inner(first).find((x) => loop.includes(x.t));
    if (link === undefined) continue; // a single step that does not lead to itself
    const ids = [...loop].sort((a, b) => a - b).map((i) => `"${steps[i]!.id}"`);
    const what =
      ids.length === 1 ? `step ${ids[0]} leads back to itself` : `steps ${ids.join(', ')} loop`;
    report(
      ['steps', first, ...link.e.path],
      `${what} without a person ever acting: add a check or decision step to the loop`,
    );
  }
}

/** Tarjan's strongly connected components of the graph on 0…n-1. */
function stronglyConnected(n: number, next: (i: number) => number[]): number[][] {
  const order = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Set<number>();
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const visit = (v: number): void => {
    order[v] = low[v] = counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (order[w] === -1) {
        visit(w);
        low[v] = Math.min(low[v]!, low[w]!);
      } else if (onStack.has(w)) {
        low[v] = Math.min(low[v]!, order[w]!);
      }
    }
    if (low[v] !== order[v]) return;
    const component: number[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    components.push(component);
  };
  for (let v = 0; v < n; v++) if (order[v] === -1) visit(v);
  return components;
}
