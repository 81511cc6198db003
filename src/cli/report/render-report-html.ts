import { formatDuration } from '../progress-view';
import { html, type SafeHtml } from './html';
import type { JobReport, PartitionReport, ReferenceRun } from './job-report';
import { SPAN_COLOURS, timelineSvg } from './timeline-svg';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2330; max-width: 1440px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #d9dde3; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 8px; border-bottom: 1px solid #eceef2; }
table.partitions td { white-space: nowrap; }
th { text-align: left; background: #f4f5f7; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2e7d32; } .bad { color: #c62828; font-weight: 600; } .note { color: #5b6472; }
pre { background: #f4f5f7; padding: 8px; overflow-x: auto; white-space: pre-wrap; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }
`;

const count = (n: number | undefined): string => (n === undefined ? '' : n.toLocaleString('en-US'));
const time = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());
/** `12-05 02:11:40.335`: a partition's moments, compact enough for its row. */
const moment = (ms: number | undefined): string =>
  ms === undefined ? '' : new Date(ms).toISOString().slice(5, 23).replace('T', ' ');
const verdict = (ok: boolean): SafeHtml =>
  ok ? html`<span class="ok">ok</span>` : html`<span class="bad">FAILED</span>`;

/** Milliseconds the partition's build took: its step time, else its build spans. */
function buildMs(p: PartitionReport): number | undefined {
  if (p.result?.stepMs.insert !== undefined) return p.result.stepMs.insert;
  const spans = p.spans.filter((s) => s.step === 'build' && s.end !== undefined);
  return spans.length > 0 ? spans.reduce((ms, s) => ms + ((s.end as number) - s.start), 0) : undefined;
}

/** Source rows read per second of the partition's build (its INSERT). */
export function rowsPerSecond(p: PartitionReport): number | undefined {
  const ms = buildMs(p);
  return p.result && ms ? Math.round(p.result.rowsRead / (ms / 1000)) : undefined;
}

const swappedAt = (p: PartitionReport): number | undefined => p.spans.find((s) => s.step === 'swap')?.end;

function summary(r: JobReport): SafeHtml {
  const by = (state: string) => r.partitions.filter((p) => p.state === state).length;
  const rowsRead = r.partitions.reduce((n, p) => n + (p.result?.rowsRead ?? 0), 0);
  const rowsWritten = r.partitions.reduce((n, p) => n + (p.result?.rowsWritten ?? 0), 0);
  const checks = r.partitions.flatMap((p) => p.result?.checks ?? []);
  const elapsed = (r.closedAt ?? r.generatedAt) - r.startedAt;
  const line = (name: string, value: unknown) =>
    html`<tr>
      <th>${name}</th>
      <td>${value}</td>
    </tr>`;
  return html`<table class="summary">
    ${line('workflow', `${r.workflowId} (${r.workflowType}, ${r.runIds.length} run${r.runIds.length === 1 ? '' : 's'})`)}
    ${line('status', r.status)} ${line('target', r.target ?? '')}${line('source', r.source ?? '')}
    ${r.from ? line('range', `${r.from} … ${r.to ?? ''}`) : ''}
    ${line('started', time(r.startedAt))}${line('closed', r.closedAt ? time(r.closedAt) : 'still running')}
    ${line('elapsed', formatDuration(elapsed))}
    ${line(
      'partitions',
      `${r.partitions.length} in all: ${by('swapped')} swapped, ${by('failed')} failed, ` +
        `${by('running')} running, ${by('waiting')} waiting, ${by('cancelled')} cancelled`,
    )}
    ${line('rows', `${count(rowsRead)} read, ${count(rowsWritten)} written`)}
    ${line('checks', `${checks.filter((c) => c.ok).length} passed, ${checks.filter((c) => !c.ok).length} failed`)}
    ${r.failure ? line('failure', html`<span class="bad">${r.failure}</span>`) : ''}
  </table>`;
}

function partitionTable(r: JobReport): SafeHtml {
  const rows = r.partitions.map((p) => {
    const build = p.spans.find((s) => s.step === 'build');
    const ms = buildMs(p);
    return html`<tr class="partition" data-partition="${p.partition}">
      <td>${p.partition}</td>
      <td>${p.state}</td>
      <td>${moment(p.queuedAt)}</td>
      <td class="n">${p.lockWaits}</td>
      <td>${moment(build?.start)}</td>
      <td>${moment(build?.end)}</td>
      <td>${moment(swappedAt(p))}</td>
      <td class="n">${p.result?.salt}</td>
      <td class="n rows-read">${count(p.result?.rowsRead)}</td>
      <td class="n rows-written">${count(p.result?.rowsWritten)}</td>
      <td class="n">${count(p.result?.rowsBefore)}</td>
      <td class="n">${ms === undefined ? '' : (ms / 1000).toFixed(2)}</td>
      <td class="n rows-per-second">${count(rowsPerSecond(p))}</td>
      <td class="n ledger-rows">${count(p.ledger?.targetRows)}</td>
      <td>${p.ledger?.swappedAt}</td>
      <td class="bad">${p.error}</td>
    </tr>`;
  });
  return html`<table class="partitions">
    <tr>
      <th>partition</th>
      <th>state</th>
      <th>asked for</th>
      <th>lock waits</th>
      <th>build started</th>
      <th>build ended</th>
      <th>swapped</th>
      <th>salt</th>
      <th>rows read</th>
      <th>rows written</th>
      <th>rows before</th>
      <th>build s</th>
      <th>rows/s</th>
      <th>ledger: target rows</th>
      <th>ledger: recorded</th>
      <th>error</th>
    </tr>
    ${rows}
  </table>`;
}

function checksTable(r: JobReport): SafeHtml {
  const rows = r.partitions.flatMap((p) =>
    (p.result?.checks ?? []).map(
      (c) =>
        html`<tr class="check" data-partition="${p.partition}" data-check="${c.name}">
          <td>${p.partition}</td>
          <td>${c.name}</td>
          <td class="n">${c.expected}</td>
          <td class="n">${c.actual}</td>
          <td>${verdict(c.ok)}</td>
        </tr>`,
    ),
  );
  if (rows.length === 0) return html`<p class="note">no partition has completed its validation yet</p>`;
  return html`<table class="checks">
    <tr>
      <th>partition</th>
      <th>check</th>
      <th>expected</th>
      <th>actual</th>
      <th></th>
    </tr>
    ${rows}
  </table>`;
}

function referenceRun(run: ReferenceRun): SafeHtml {
  const rep = run.report;
  const head = html`<h3>
    ${run.workflowId} <span class="note">(${run.status}, started ${time(run.startedAt)})</span>
  </h3>`;
  if (!rep)
    return html`${head}
      <p class="note">${run.note}</p>`;
  const badDays = rep.days.filter((d) => !d.ok).length;
  return html`${head}
    <p>${verdict(rep.ok)} ${rep.target} vs ${rep.reference}, ${rep.from} … ${rep.to}</p>
    <table class="reference">
      <tr>
        <th>rows per day</th>
        <td>${rep.days.length - badDays}/${rep.days.length} days agree</td>
      </tr>
      ${rep.sums.map(
        (s) =>
          html`<tr>
            <th>sum(${s.metric})</th>
            <td>target ${s.target}, reference ${s.reference} ${verdict(s.ok)}</td>
          </tr>`,
      )}
      <tr>
        <th>keys on one side only</th>
        <td>${rep.onlyInTarget.count} only in the target, ${rep.onlyInReference.count} only in the reference</td>
      </tr>
      <tr>
        <th>sampled keys</th>
        <td>
          ${rep.sampled.length} compared value by value,
          ${rep.sampled.filter((s) => s.columns.some((c) => !c.ok)).length} differ
        </td>
      </tr>
      ${
        rep.fullDiff
          ? html`<tr>
              <th>full diff</th>
              <td>${rep.fullDiff.differing} row(s) differ</td>
            </tr>`
          : ''
      }
      <tr>
        <th>relative tolerance</th>
        <td>${rep.relativeTolerance}</td>
      </tr>
    </table>`;
}

function statements(r: JobReport): SafeHtml {
  return html`<p class="note statements-source">${r.statements.source}</p>
    ${r.statements.statements.map(
      (s) =>
        html`<div class="statement">
          <div><b>${s.step}</b></div>
          <pre>${s.query};</pre>
          ${Object.keys(s.params).length > 0 ? html`<div class="note">params: ${JSON.stringify(s.params)}</div>` : ''}
          ${
            s.settings && Object.keys(s.settings).length > 0
              ? html`<div class="note">settings: ${JSON.stringify(s.settings)}</div>`
              : ''
          }
          ${s.note ? html`<div class="note">${s.note}</div>` : ''}
        </div>`,
    )}`;
}

/**
 * The report as one self-contained HTML page (inline CSS and SVG, no script, no external asset), every value
 * escaped through {@link html}: the summary, the per-partition timeline, rows and rows/s per partition, every
 * validation check with its figures, the reference validations of the target, the statements, the recorded job.
 */
export function renderReportHtml(r: JobReport): string {
  const legend = (['waited', 'build', 'backup', 'swap'] as const).map(
    (k) => html`<span style="background:${SPAN_COLOURS[k]}"></span>${k}`,
  );
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>Report of ${r.workflowId}</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <h1>Report of ${r.workflowId}</h1>
        <p class="note">
          gathered ${time(r.generatedAt)} from Temporal's history of the job and of its partition writers, and from the
          ledger; times are UTC
        </p>
        <h2>Summary</h2>
        ${summary(r)}
        <h2>Timeline</h2>
        ${r.partitions.length > 0 ? timelineSvg(r.partitions, r.generatedAt) : html`<p class="note">no partition started</p>`}
        <p class="legend note">
          ${legend} — a lane runs from when the job asked for the partition's writer to when the writer closed; grey is
          where it waited (a lock held by another job, a pause, an approval, a worker)
        </p>
        <h2>Partitions</h2>
        ${partitionTable(r)} ${r.ledgerNote ? html`<p class="note">${r.ledgerNote}</p>` : ''}
        <h2>Validation checks</h2>
        ${checksTable(r)}
        <h2>Reference validation (Spark)</h2>
        ${
          r.references.length > 0
            ? r.references.map(referenceRun)
            : html`<p class="note">no <code>validate</code> run of this target over these days was found</p>`
        }
        <h2>Statements</h2>
        ${statements(r)}
        <h2>Job (as its first run recorded it)</h2>
        <pre class="job">${JSON.stringify(r.job ?? null, null, 2)}</pre>
      </body>
    </html> `;
  return page.markup;
}
