import { html, type SafeHtml } from './html';
import type { PartitionReport, StepSpan } from './job-report';

const ROW = 22;
const LABEL = 110;
const WIDTH = 1000;
const AXIS = 24;
/** The first tick's label starts at the lane's start, the last ends at its end. */
const ANCHORS: Record<number, string> = { 0: 'start', 4: 'end' };

/** `02:11:40.335`: the spans of a small job last milliseconds. */
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 23);

/** Colours of the spans; the lane behind them (asked for → closed) is where the partition waited. */
export const SPAN_COLOURS: Record<StepSpan['step'] | 'waited', string> = {
  waited: '#d9dde3',
  build: '#3b7dd8',
  backup: '#9b6bd3',
  swap: '#2e9e5b',
};

/**
 * The per-partition timeline as inline SVG: one row (`g.partition-bar`) per partition, its lane from when the job
 * asked for the writer to when the writer closed (grey: waiting for a lock, a pause, an approval or a worker), with
 * the build, backup and swap spans drawn over it; `now` ends what is still open.
 */
export function timelineSvg(partitions: PartitionReport[], now: number): SafeHtml {
  const start = Math.min(...partitions.map((p) => p.queuedAt));
  const end = Math.max(...partitions.map((p) => p.closedAt ?? now), start + 1);
  const x = (ms: number): number => LABEL + ((ms - start) / (end - start)) * (WIDTH - LABEL - 10);
  const height = AXIS + partitions.length * ROW + 4;
  const rect = (cls: string, from: number, to: number, y: number, colour: string, title: string) =>
    html`<rect
      class="${cls}"
      x="${x(from).toFixed(1)}"
      y="${y}"
      width="${Math.max(x(to) - x(from), 1.5).toFixed(1)}"
      height="${ROW - 8}"
      fill="${colour}"
      ><title>${title}</title></rect
    >`;
  const rows = partitions.map((p, i) => {
    const y = AXIS + i * ROW + 4;
    const closed = p.closedAt ?? now;
    const waitTitle =
      `${p.partition}: asked for ${clock(p.queuedAt)}` +
      (p.startedAt ? `, writer started ${clock(p.startedAt)}` : ', writer not started') +
      (p.lockWaits > 0 ? ` after ${p.lockWaits} lock wait(s)` : '') +
      (p.closedAt ? `, closed ${clock(p.closedAt)} (${p.state})` : ` (${p.state})`);
    return html`<g class="partition-bar" data-partition="${p.partition}" data-state="${p.state}">
      <text x="4" y="${y + ROW - 11}" font-size="12">${p.partition}</text>
      ${rect('span-waited', p.queuedAt, closed, y, SPAN_COLOURS.waited, waitTitle)}
      ${p.spans.map((s) =>
        rect(
          `span-${s.step}`,
          s.start,
          s.end ?? now,
          y,
          SPAN_COLOURS[s.step],
          `${p.partition} ${s.step} (${s.activity}): ${clock(s.start)} → ${s.end ? clock(s.end) : 'running'}`,
        ),
      )}
    </g>`;
  });
  const ticks = Array.from({ length: 5 }, (_, i) => start + ((end - start) * i) / 4).map(
    (t, i) =>
      html`<text x="${x(t).toFixed(1)}" y="14" font-size="11" text-anchor="${ANCHORS[i] ?? 'middle'}"
        >${clock(t)}</text
      >`,
  );
  return html`<svg
    class="timeline"
    xmlns="http://www.w3.org/2000/svg"
    viewBox="0 0 ${WIDTH} ${height}"
    width="${WIDTH}"
    height="${height}"
    role="img"
    aria-label="per-partition timeline (UTC)"
  >
    ${ticks}${rows}
  </svg>`;
}
