import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Engines are compared by family (src/clickhouse/engine-family.ts), never by exact name: Cloud reports
 * `SharedSummingMergeTree`, clusters `ReplicatedSummingMergeTree`, and a comparison by name refuses or skips them.
 * This scans every source file for a comparison of an engine name outside engine-family.ts.
 */
const SRC = path.resolve(__dirname, '../../src');
const FAMILY_FILE = path.join(SRC, 'clickhouse', 'engine-family.ts');

/**
 * The operands that may be compared with a MergeTree-family name: a family (`engineFamily(…)`, or a variable named
 * `family` holding one), and a job's own `target.engine` as the job schema declares it (`job.target.engine`, or
 * `shape.engine` built from it: the schema's enum of plain family names, never a name read from a server).
 */
const FAMILY_OPERAND = /^(family|engineFamily\(.*\)|shape\.engine|job\.target\.engine)$/;

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });

/** Each comparison of an engine name by exact name in `text`, as `line: text`. */
function engineNameComparisons(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const at = `${i + 1}: ${line.trim()}`;
    if (/\.(endsWith|startsWith|includes)\(\s*'(\w*MergeTree|Replicated|Shared)'/.test(line)) found.push(at);
    if (/\/[^/\n]*MergeTree\$\//.test(line) || /case '\w*MergeTree'/.test(line)) found.push(at);
    for (const m of line.matchAll(
      /([\w.]+\([^()]*\)|[\w.]+)\s*[!=]==?\s*'(\w*MergeTree)'|'(\w*MergeTree)'\s*[!=]==?\s*([\w.]+\([^()]*\)|[\w.]+)/g,
    )) {
      const operand = m[1] ?? m[4];
      if (!FAMILY_OPERAND.test(operand)) found.push(at);
    }
  });
  return found;
}

test('no source file compares an engine by its exact name outside engine-family.ts', () => {
  const offences = files(SRC)
    .filter((file) => file !== FAMILY_FILE)
    .flatMap((file) =>
      engineNameComparisons(readFileSync(file, 'utf8')).map((o) => `${path.relative(SRC, file)}:${o}`),
    );
  expect(offences).toEqual([]);
});

test.each([
  "if (info.engine === 'SummingMergeTree') return;",
  "if ('MergeTree' !== row.engine) return;",
  "const plain = engine.endsWith('MergeTree');",
  "const replicated = engine.startsWith('Replicated');",
  'const merge = /MergeTree$/.test(engine);',
  "switch (engine) { case 'ReplacingMergeTree': break; }",
])('the scan finds %s', (line) => {
  expect(engineNameComparisons(line)).toHaveLength(1);
});

test.each([
  "if (engineFamily(info.engine) === 'SummingMergeTree') return;",
  "if (family === 'AggregatingMergeTree') return;",
  "if (row.engine === 'MaterializedView') continue;",
])('the scan lets %s pass', (line) => {
  expect(engineNameComparisons(line)).toEqual([]);
});
