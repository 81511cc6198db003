import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { BackfillSummary } from '../../src/shared/backfill-results';
import { partitionLockId } from '../../src/shared/partition-lock';
import { createDemoEventsTable, insertDemoEvents } from '../../examples/demo/sql/demo-events';
import { createHarness, exampleJob, type Harness } from '../helpers/backfill-harness';
import { freshDatabase } from '../helpers/chdb-env';
import { freePort } from '../../examples/demo/free-port';

/** Debian's chromium; `.ci/run` installs it when missing. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve(__dirname, '..', '..', '.data', 'test', 'ui-screenshot.png');

const describeWithChromium = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) {
  console.warn(`web-ui test skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
}

/**
 * The dev server's Web UI, in headless Chromium, for a finished backfill: a partition workflow's page shows its
 * static summary and details, and its timeline the steps' summaries, as the CLI words them; for a running one,
 * the backfill's page shows where it stands (its current details).
 */
describeWithChromium('the Temporal Web UI reads like the CLI', () => {
  let h: Harness;
  let db: string;
  let uiPort: number;
  let browser: Browser;
  let summary: BackfillSummary;

  beforeAll(async () => {
    uiPort = await freePort();
    h = await createHarness([], uiPort);
    db = await freshDatabase(h.ch, 'webui');
    const events = { database: db, name: 'events' };
    await h.ch.exec(createDemoEventsTable(events));
    await h.ch.exec(insertDemoEvents(events, '2024-01-01', 1, 5_000));
    summary = (await h.backfill({
      job: exampleJob(db, { chunkSize: 5 }),
      from: '2024-01-01',
      to: '2024-01-31',
    })) as BackfillSummary;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it("shows each step's summary in a partition workflow's history, and the workflow's summary and details", async () => {
    const [partition] = summary.partitions;
    expect(partition.partition).toBe('202401');
    expect(partition.salt).toBeGreaterThan(1);
    const workflowId = partitionLockId({ database: db, name: 'events_daily' }, '202401');
    const { runId } = await h.env.client.workflow.getHandle(workflowId).describe();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.goto(
      `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`,
    );
    // The event history lists each step with its summary, as `status` names the steps.
    const insert = `insert 202401 · salt ${partition.salt}`;
    await page.getByText(insert).first().waitFor({ timeout: 60_000 });
    const history = await page.locator('body').innerText();
    for (const step of [
      `prepare shadow ${db}.events_daily_v2_202401_`,
      insert,
      `validate 202401 against ${db}.events`,
      `swap 202401 into ${db}.events_daily`,
      `drop shadow ${db}.events_daily_v2_202401_`,
    ]) {
      expect(history).toContain(step);
    }
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    // The workflow's own summary and details, under User Metadata: the UI renders each (markdown) in a frame.
    await page.getByText('User Metadata', { exact: true }).click();
    const summaryFrame = page.frameLocator('#user-metadata-summary');
    const detailsFrame = page.frameLocator('#user-metadata-details');
    await summaryFrame
      .getByText(`rebuild ${db}.events_daily partition 202401 · salt ${partition.salt}`, { exact: true })
      .waitFor({ timeout: 30_000 });
    for (const line of [
      `target ${db}.events_daily, partition 202401`,
      `source ${db}.events (5000 rows)`,
      'job aggregate events_daily, build rebuild',
    ]) {
      await detailsFrame.getByText(line, { exact: true }).waitFor({ timeout: 10_000 });
    }
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-metadata.png') });
    console.log(`screenshots: ${SCREENSHOT}, ${SCREENSHOT.replace(/\.png$/, '-metadata.png')}`);
  });

  it("shows a running backfill's phase and counts as its current details", async () => {
    let reached = (): void => undefined;
    const building = new Promise<void>((resolve) => (reached = resolve));
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    h.serve({
      onStep: async (point) => {
        if (point !== 'insert:started') return;
        reached();
        await released;
      },
    });
    const workflowId = `backfill-details-${db}`;
    const handle = await h.env.client.workflow.start('backfillWorkflow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{ job: exampleJob(db, { chunkSize: 5 }), from: '2024-01-01', to: '2024-01-31' }],
    });
    try {
      await building;
      const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
      await page.goto(
        `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/` +
          `${handle.firstExecutionRunId}/history`,
      );
      await page.getByText('User Metadata', { exact: true }).click();
      await page
        .frameLocator('#user-metadata-current-details')
        .getByText('running · 0 of 1 swapped · 1 building', { exact: true })
        .waitFor({ timeout: 60_000 });
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-current-details.png') });
    } finally {
      release();
    }
    await handle.result();
  });
});
