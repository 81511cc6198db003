import type { ClickHouse } from '../../src/clickhouse/clickhouse';

/** One statement as a worker sent it: text, parameters and the settings it was run with. */
export interface RecordedStatement {
  query: string;
  params: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

/** `ch`, recording every statement sent through it into `sent` (in order) for as long as `recording` is true. */
export function recordingClickHouse(ch: ClickHouse): { ch: ClickHouse; sent: RecordedStatement[]; recording: boolean } {
  const recorder = {
    sent: [] as RecordedStatement[],
    recording: false,
    ch: {
      embedded: ch.embedded,
      rows: (statement, options) => {
        if (recorder.recording) recorder.sent.push({ ...statement, settings: options?.settings });
        return ch.rows(statement, options);
      },
      exec: (statement, options) => {
        if (recorder.recording) recorder.sent.push({ ...statement, settings: options?.settings });
        return ch.exec(statement, options);
      },
      close: () => ch.close(),
      // Control statements (KILL, system reads) are recorded too, in the same order.
      get control() {
        return recorder.ch;
      },
    } as ClickHouse,
  };
  return recorder;
}
