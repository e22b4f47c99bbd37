/**
 * A horizontal bar chart as plain SVG: one row per label, a solid bar for the main value
 * and, when given, a lighter bar behind it for a second one (a p90 behind a median). The
 * picture is `role="img"` with a summary; the numbers are also in a table beneath it.
 */
import { useId } from 'react';

export interface Bar {
  label: string;
  value: number | undefined;
  /** Drawn behind `value`, lighter (e.g. the p90 behind a median). */
  behind?: number | undefined;
}

const ROW = 28;
const LABEL_W = 190;
const BAR_W = 300;
const VALUE_W = 150;

/** The chart's numbers as a table, folded away under "The numbers". */
function ChartNumbers({
  title,
  bars,
  format,
  valueName,
  behindName,
}: {
  title: string;
  bars: Bar[];
  format: (n: number | undefined) => string;
  valueName: string;
  behindName?: string;
}) {
  if (bars.length === 0) return null;
  return (
    <details>
      <summary>The numbers</summary>
      <table>
        <caption className="visually-hidden">{title}</caption>
        <thead>
          <tr>
            <th scope="col">Workflow</th>
            <th scope="col">{valueName}</th>
            {behindName ? <th scope="col">{behindName}</th> : null}
          </tr>
        </thead>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td>{format(b.value)}</td>
              {behindName ? <td>{format(b.behind)}</td> : null}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function BarChart({
  title,
  bars,
  format,
  valueName,
  behindName,
  max: fixedMax,
}: {
  title: string;
  bars: Bar[];
  format: (n: number | undefined) => string;
  valueName: string;
  behindName?: string;
  /** The value a full-width bar stands for; default the largest value. */
  max?: number;
}) {
  const id = useId();
  const max = fixedMax ?? Math.max(1e-9, ...bars.flatMap((b) => [b.value ?? 0, b.behind ?? 0]));
  const height = Math.max(1, bars.length) * ROW + 8;
  const scale = (n: number | undefined) => ((n ?? 0) / max) * BAR_W;
  const summary = bars
    .map(
      (b) =>
        `${b.label}: ${format(b.value)}${behindName ? `, ${behindName} ${format(b.behind)}` : ''}`,
    )
    .join('; ');
  return (
    <figure className="chart">
      <figcaption id={`${id}-cap`}>{title}</figcaption>
      {bars.length === 0 ? (
        <p className="muted">No samples in this window.</p>
      ) : (
        <svg
          viewBox={`0 0 ${LABEL_W + BAR_W + VALUE_W} ${height}`}
          role="img"
          aria-labelledby={`${id}-cap`}
          aria-describedby={`${id}-sum`}
          preserveAspectRatio="xMinYMin meet"
        >
          <title>{title}</title>
          <desc id={`${id}-sum`}>{summary}</desc>
          {bars.map((b, n) => {
            const y = n * ROW + 4;
            return (
              <g key={b.label}>
                <text x={LABEL_W - 8} y={y + ROW / 2 + 4} textAnchor="end" className="chart-label">
                  {b.label.length > 26 ? `${b.label.slice(0, 25)}…` : b.label}
                </text>
                {b.behind !== undefined ? (
                  <rect
                    x={LABEL_W}
                    y={y + 4}
                    width={scale(b.behind)}
                    height={ROW - 10}
                    className="bar-behind"
                  />
                ) : null}
                <rect
                  x={LABEL_W}
                  y={y + 4}
                  width={scale(b.value)}
                  height={ROW - 10}
                  className="bar"
                />
                <text x={LABEL_W + BAR_W + 8} y={y + ROW / 2 + 4} className="chart-value">
                  {format(b.value)}
                  {behindName && b.behind !== undefined ? ` / ${format(b.behind)}` : ''}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <ChartNumbers
        title={title}
        bars={bars}
        format={format}
        valueName={valueName}
        {...(behindName ? { behindName } : {})}
      />
    </figure>
  );
}
