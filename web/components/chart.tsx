/**
 * A grouped bar chart drawn on the server as inline SVG: no script (the admin page's
 * Content-Security-Policy allows none), no inline style (colours come from the stylesheet by
 * class). It is an image with a title and a description for assistive technology, each bar
 * carries its value as a tooltip, and the same figures follow as a table.
 */
import type { FC } from "hono/jsx";

export interface ChartSeries {
  name: string;
  /** Styles the series' bars and legend swatch (`.series-<key>`). */
  key: string;
  values: readonly number[];
}

export interface ChartGroup {
  /** Under the axis, for every `tickEvery`-th group. */
  tick: string;
  /** The group in full, for tooltips and the table's first column. */
  label: string;
}

const WIDTH = 1080;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 8, bottom: 26, left: 36 };

/** The smallest 1, 2 or 5 × 10ⁿ at or above `max`, so that the scale reads in round numbers. */
export function niceCeiling(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].find((m) => m * power >= max) ?? 10;
  return step * power;
}

const round = (n: number) => Math.round(n * 10) / 10;

export const BarChart: FC<{
  id: string;
  title: string;
  description: string;
  groups: readonly ChartGroup[];
  series: readonly ChartSeries[];
  tickEvery: number;
  /** The table's first column heading. */
  groupHeading: string;
}> = ({ id, title, description, groups, series, tickEvery, groupHeading }) => {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = niceCeiling(Math.max(0, ...series.flatMap((s) => s.values)));
  const ticks = top === 1 ? [0, 1] : [0, top / 2, top];
  const y = (value: number) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const groupWidth = plotWidth / Math.max(1, groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return (
    <figure class="chart" id={id}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={titleId}>{title}</title>
        <desc id={descId}>{description}</desc>
        <g class="chart-grid">
          {ticks.map((tick) => (
            <g>
              <line
                x1={MARGIN.left}
                x2={WIDTH - MARGIN.right}
                y1={round(y(tick))}
                y2={round(y(tick))}
              />
              <text x={MARGIN.left - 6} y={round(y(tick)) + 4} text-anchor="end">
                {tick}
              </text>
            </g>
          ))}
        </g>
        {series.map((s, index) => (
          <g class={`chart-bars series-${s.key}`} data-series={s.key}>
            {groups.map((group, i) => {
              const value = s.values[i] ?? 0;
              const x = MARGIN.left + i * groupWidth + groupWidth * 0.1 + index * barWidth;
              return (
                <rect
                  x={round(x)}
                  y={round(y(value))}
                  width={round(barWidth)}
                  height={round(MARGIN.top + plotHeight - y(value))}
                  data-value={value}
                >
                  <title>{`${group.label}: ${value} ${s.name.toLowerCase()}`}</title>
                </rect>
              );
            })}
          </g>
        ))}
        <g class="chart-axis">
          <line
            x1={MARGIN.left}
            x2={WIDTH - MARGIN.right}
            y1={MARGIN.top + plotHeight}
            y2={MARGIN.top + plotHeight}
          />
          {groups.map((group, i) =>
            (groups.length - 1 - i) % tickEvery === 0 ? (
              <text
                x={round(MARGIN.left + (i + 1) * groupWidth)}
                y={HEIGHT - 8}
                text-anchor={i === groups.length - 1 ? "end" : "middle"}
              >
                {group.tick}
              </text>
            ) : null,
          )}
        </g>
      </svg>
      <figcaption class="chart-legend">
        {series.map((s) => (
          <span class="legend-item">
            <span class={`swatch series-${s.key}`} aria-hidden="true" />
            {s.name}
          </span>
        ))}
      </figcaption>
      <details class="chart-data">
        <summary>The figures as a table</summary>
        <div class="table-wrap">
          <table class="grid">
            <thead>
              <tr>
                <th scope="col">{groupHeading}</th>
                {series.map((s) => (
                  <th scope="col" class="num">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {groups.map((group, i) => (
                <tr>
                  <th scope="row" class="nowrap">
                    {group.label}
                  </th>
                  {series.map((s) => (
                    <td class="num">{s.values[i] ?? 0}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
};
