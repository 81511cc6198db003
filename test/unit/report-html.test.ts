import { html } from '../../src/cli/report/html';
import type { JobReport, PartitionReport } from '../../src/cli/report/job-report';
import { renderReportHtml, rowsPerSecond } from '../../src/cli/report/render-report-html';

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);

function partition(id: string, overrides: Partial<PartitionReport> = {}): PartitionReport {
  return {
    partition: id,
    writerId: `partition:db.events_daily/${id}`,
    writerRunId: 'run',
    state: 'swapped',
    queuedAt: T0,
    lockWaits: 0,
    startedAt: T0 + 100,
    closedAt: T0 + 5_000,
    spans: [
      { step: 'build', activity: 'buildValidatedShadow', start: T0 + 200, end: T0 + 2_200 },
      { step: 'swap', activity: 'swapPartition', start: T0 + 3_000, end: T0 + 3_500 },
    ],
    result: {
      partition: id,
      salt: 2,
      rowsRead: 10_000,
      rowsWritten: 120,
      rowsBefore: 0,
      emptied: false,
      checks: [{ name: 'row count', expected: '10000', actual: '10000', ok: true }],
      stepMs: { insert: 2_000 },
    },
    ...overrides,
  };
}

function report(overrides: Partial<JobReport> = {}): JobReport {
  return {
    workflowId: 'backfill-1',
    workflowType: 'backfillWorkflow',
    status: 'COMPLETED',
    startedAt: T0,
    closedAt: T0 + 6_000,
    runIds: ['run'],
    target: 'db.events_daily',
    partitions: [partition('202401'), partition('202402')],
    references: [],
    statements: { statements: [], source: 'none recorded' },
    generatedAt: T0 + 7_000,
    ...overrides,
  };
}

describe('the HTML report', () => {
  it('escapes every interpolated value, and inserts nested templates as markup', () => {
    const hostile = `<script>alert("x")</script>&'`;
    expect(html`<p title="${hostile}">${hostile}${html`<b>${hostile}</b>`}</p>`.markup).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;' +
        '<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</b></p>',
    );
  });

  it('carries no script and no value unescaped, whatever the job and its checks hold', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const page = renderReportHtml(
      report({
        workflowId: evil,
        failure: evil,
        job: { name: evil },
        partitions: [
          partition('202401', {
            error: evil,
            result: { ...partition('x').result!, checks: [{ name: evil, expected: evil, actual: '1', ok: false }] },
          }),
        ],
        statements: { statements: [{ step: evil, query: `SELECT '${evil}'`, params: { p: evil } }], source: evil },
      }),
    );
    expect(page).not.toContain('<img');
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('draws one timeline bar per partition and gives rows/s of each build', () => {
    const page = renderReportHtml(report());
    expect(page.match(/class="partition-bar"/g)).toHaveLength(2);
    expect(page).toContain('data-partition="202402"');
    expect(rowsPerSecond(partition('202401'))).toBe(5_000);
    expect(page).toContain('<td class="n rows-per-second">5,000</td>');
  });
});
