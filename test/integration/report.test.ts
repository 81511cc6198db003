import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { BackfillSummary, PartitionResult } from '../../src/shared/backfill-results';
import { partitionLockId } from '../../src/shared/partition-lock';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { runCliOn } from '../helpers/run-cli-captured';

/** Debian's chromium; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
/** Kept in the repository: docs/operating.md shows it. */
const SCREENSHOT = path.resolve(__dirname, '..', '..', 'docs', 'images', 'report.png');

const describeWithChromium = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) {
  console.warn(`report test skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
}

const escaped = (n: number): string => n.toLocaleString('en-US');
const literally = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `report <id> --html`: the page of a finished backfill (its partitions, rows, checks, a reference validation of
 * its target and its statements) rendered in headless Chromium with one timeline bar per partition; and the page of
 * a running one, its building partition open on the timeline.
 */
describeWithChromium('report of a backfill as one HTML page', () => {
  let h: Harness;
  let db: string;
  let browser: Browser;
  let summary: BackfillSummary;
  let blockInsert = false;
  let reached = (): void => undefined;
  let release = (): void => undefined;
  const dir = path.join(tmpdir(), `ch-backfill-report-${process.pid}`);
  const workflowId = 'backfill-report';

  beforeAll(async () => {
    h = await createHarness();
    db = await freshDatabase(h.ch, 'report');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 3, 30_000));
    h.serve({
      onStep: async (point) => {
        if (!blockInsert || point !== 'insert:started') return;
        reached();
        await new Promise<void>((resolve) => (release = resolve));
      },
    });
    summary = (await h.env.client.workflow.execute('backfillWorkflow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{ job: exampleJob(db, { chunkSize: 3_000 }), from: '2024-01-01', to: '2024-03-31' }],
    })) as BackfillSummary;
    // A validation of the target against a reference table (as a Spark export would be), over the same days.
    await h.ch.exec({
      query:
        'CREATE TABLE {db:Identifier}.legacy ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM {db:Identifier}.events_daily',
      params: { db },
    });
    await h.env.client.workflow.execute('validateWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'validate-report',
      args: [
        {
          job: exampleJob(db),
          reference: { kind: 'table', table: `${db}.legacy` },
          from: '2024-01-01',
          to: '2024-03-31',
        },
      ],
    });
    mkdirSync(dir, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    release();
    await browser?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes every partition's rows and checks, the reference validation and the statements, and draws a bar per partition", async () => {
    const file = path.join(dir, 'finished.html');
    const run = await runCliOn(h, 'report', workflowId, '--html', file);
    expect(run).toMatchObject({ code: 0, err: '' });
    expect(run.out).toBe(`wrote ${file}: ${workflowId} (completed), 3 partitions`);

    const page = readFileSync(file, 'utf8');
    expect(page).not.toMatch(/<script|<link|src="http/i);
    expect(summary.partitions.map((p) => p.partition)).toEqual(['202401', '202402', '202403']);
    for (const p of summary.partitions) {
      const writer = partitionLockId({ database: db, name: 'events_daily' }, p.partition);
      const result = (await h.env.client.workflow.getHandle(writer).result()) as PartitionResult;
      const row = page.match(new RegExp(`<tr class="partition" data-partition="${p.partition}">[\\s\\S]*?</tr>`))?.[0];
      expect(row).toContain(`<td class="n rows-read">${escaped(p.rowsRead)}</td>`);
      expect(row).toContain(`<td class="n rows-written">${escaped(p.rowsWritten)}</td>`);
      // The ledger row this job's swap recorded: the target partition holds what was written.
      expect(row).toContain(`<td class="n ledger-rows">${escaped(p.rowsWritten)}</td>`);
      expect(result.checks.length).toBeGreaterThan(0);
      for (const c of result.checks) {
        const check = page.match(
          new RegExp(
            `<tr class="check" data-partition="${p.partition}" data-check="${literally(c.name)}">[\\s\\S]*?</tr>`,
          ),
        )?.[0];
        expect(check).toMatch(
          new RegExp(`<td class="n">${literally(c.expected)}</td>\\s*<td class="n">${literally(c.actual)}</td>`),
        );
        expect(check).toContain('<span class="ok">ok</span>');
      }
    }
    expect(page).toContain(`${summary.rowsRead.toLocaleString('en-US')} read`);
    // The reference validation of the same target and days, and the statements from the dry run, saying so.
    expect(page).toContain('validate-report');
    expect(page).toContain(`${db}.events_daily vs table ${db}.legacy`);
    expect(page).toContain('statements are not recorded in the job&#39;s history or the ledger');
    expect(page).toMatch(/INSERT INTO/);

    const tab = await browser.newPage({ viewport: { width: 1480, height: 1000 } });
    await tab.goto(`file://${file}`);
    const bars = tab.locator('svg.timeline g.partition-bar');
    expect(await bars.count()).toBe(3);
    expect(await bars.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-partition')))).toEqual([
      '202401',
      '202402',
      '202403',
    ]);
    // Each bar holds its build and its swap.
    expect(await tab.locator('g.partition-bar rect.span-build').count()).toBeGreaterThanOrEqual(3);
    expect(await tab.locator('g.partition-bar rect.span-swap').count()).toBe(3);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await tab.screenshot({ path: SCREENSHOT, fullPage: false });
    console.log(`screenshot: ${SCREENSHOT}`);
  });

  it("shows a running backfill's partition building, not yet swapped", async () => {
    blockInsert = true;
    const building = new Promise<void>((resolve) => (reached = resolve));
    const running = 'backfill-report-running';
    const handle = await h.env.client.workflow.start('backfillWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: running,
      args: [{ job: exampleJob(db, { chunkSize: 3_000, parallelism: 1 }), from: '2024-02-01', to: '2024-02-29' }],
    });
    try {
      await building;
      const file = path.join(dir, 'running.html');
      const run = await runCliOn(h, 'report', running, '--html', file);
      expect(run.out).toBe(`wrote ${file}: ${running} (running), 1 partitions`);
      const tab = await browser.newPage();
      await tab.goto(`file://${file}`);
      const bar = tab.locator('g.partition-bar');
      expect(await bar.count()).toBe(1);
      expect(await bar.getAttribute('data-state')).toBe('running');
      expect(await bar.locator('rect.span-swap').count()).toBe(0);
      expect(await tab.locator('table.summary').innerText()).toContain('still running');
    } finally {
      blockInsert = false;
      release();
    }
    await handle.result();
  });
});
