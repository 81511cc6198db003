import type { ClickHouseSettings } from '@clickhouse/client';

/**
 * What the embedded engine's session holds for each setting, so that a query sends only the settings it needs
 * changed. chDB sends a query's settings as `SET …;` statements ahead of it, and each costs the engine about as
 * much as a trivial query (measured: `SELECT 1` 1.4 ms alone, 3.2 ms with the twelve settings every query needs):
 * a partition's sixteen statements paid that a dozen times over. The values stay in the session (they leak), so the
 * session's state is known once every query goes through here.
 *
 * Queries run one at a time in submission order (the engine runs a session's queries one at a time anyway), so
 * each sees the state its predecessor left. After a failure the state is forgotten and the next query sends every
 * setting again: a failed query may have applied some of its `SET`s and not others.
 */
export class SessionSettings {
  private known: Map<string, string> | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `send` with the part of `wanted` the session does not hold yet, after every query submitted before it.
   * `signal`, when it fires before the query's turn, rejects without running it.
   */
  run<T>(
    wanted: ClickHouseSettings,
    signal: AbortSignal | undefined,
    send: (changed: ClickHouseSettings) => Promise<T>,
  ) {
    const turn = this.tail.then(async () => {
      signal?.throwIfAborted();
      const changed = this.changes(wanted);
      try {
        const result = await send(changed);
        this.remember(changed);
        return result;
      } catch (err) {
        this.known = undefined;
        throw err;
      }
    });
    // The next query waits for this one to settle, whatever its outcome.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private changes(wanted: ClickHouseSettings): ClickHouseSettings {
    const known = this.known;
    if (!known) return wanted;
    return Object.fromEntries(
      Object.entries(wanted).filter(([name, value]) => value !== undefined && known.get(name) !== String(value)),
    ) as ClickHouseSettings;
  }

  private remember(sent: ClickHouseSettings): void {
    this.known ??= new Map();
    for (const [name, value] of Object.entries(sent)) if (value !== undefined) this.known.set(name, String(value));
  }
}
