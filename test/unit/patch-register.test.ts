import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Every patch id that workflow code passes to `patched()` or `deprecatePatch()` is in the patch register of
 * docs/architecture.md, with its date, reason, replay fixtures and when it may go. The ids are read with the type
 * checker, so an id held in a constant counts as well as a literal.
 */

const repoRoot = path.resolve(__dirname, '..', '..');
const PATCH_CALLS = new Set(['patched', 'deprecatePatch']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The patch ids of every call in src/; an argument whose value is not known at compile time is an error. */
function patchIdsInSource(): { ids: Map<string, string[]>; unknown: string[] } {
  const files = sourceFiles(path.join(repoRoot, 'src')).filter((file) =>
    /\b(patched|deprecatePatch)\s*\(/.test(readFileSync(file, 'utf8')),
  );
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const ids = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const name = ts.isIdentifier(callee)
          ? callee.text
          : ts.isPropertyAccessExpression(callee)
            ? callee.name.text
            : undefined;
        if (name && PATCH_CALLS.has(name) && node.arguments.length > 0) {
          const where = `${path.relative(repoRoot, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
          const type = checker.getTypeAtLocation(node.arguments[0]);
          const literals = (type.isUnion() ? type.types : [type]).filter((t) => t.isStringLiteral());
          if (literals.length === 0 || (type.isUnion() && literals.length !== type.types.length)) unknown.push(where);
          for (const literal of literals) {
            const id = (literal as ts.StringLiteralType).value;
            ids.set(id, [...(ids.get(id) ?? []), where]);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { ids, unknown };
}

/** The first cell of each row of the "Patch register" table: the ids, in backticks. */
function registeredIds(): Set<string> {
  const markdown = readFileSync(path.join(repoRoot, 'docs', 'architecture.md'), 'utf8');
  const section = /^## Patch register\s*$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown);
  if (!section) throw new Error('docs/architecture.md has no "## Patch register" section');
  const ids = [...section[1].matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]);
  return new Set(ids);
}

describe('patch register', () => {
  const { ids, unknown } = patchIdsInSource();
  const registered = registeredIds();

  it('reads the patch ids of src/ (at least the ones known today)', () => {
    expect(ids.size).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
  });

  it('lists every patch id of src/ in docs/architecture.md', () => {
    const missing = [...ids].filter(([id]) => !registered.has(id)).map(([id, where]) => `${id} (${where.join(', ')})`);
    expect(missing).toEqual([]);
  });
});
