/**
 * What a view's SELECT reads and calls, read from the server's own parse of it (`EXPLAIN AST`, one node a line,
 * its depth the indentation): never from our own guess at the grammar.
 */
export interface SelectAst {
  /** How many SELECTs the text holds (a UNION, a subquery: each counts). */
  selects: number;
  /** Tables read, as written (`db.name` or `name`), in order. */
  tables: string[];
  /** Table functions read (`numbers`, `url`, …). */
  tableFunctions: string[];
  /** Every function called, operators included (`equals`, `countIf`, …), each once. */
  functions: string[];
  /** Output aliases and what each names: the text of the node (`Identifier ts`, `Function toDate`). */
  aliases: { alias: string; node: string }[];
  /** Whether it joins tables (`JOIN`, or a comma join). */
  joins: boolean;
  /** Dictionaries named by a `dictGet…`/`dictHas` call's first argument (a string literal), quotes removed. */
  dictionaries: string[];
}

interface Node {
  depth: number;
  text: string;
}

const ALIAS = / \(alias ([^)]+)\)/;

/** Reads `EXPLAIN AST` output (its lines, in order) into a {@link SelectAst}. */
export function readSelectAst(lines: string[]): SelectAst {
  const nodes: Node[] = lines
    .filter((l) => l.trim() !== '')
    .map((l) => ({ depth: l.length - l.trimStart().length, text: l.trim() }));
  const ast: SelectAst = {
    selects: 0,
    tables: [],
    tableFunctions: [],
    functions: [],
    aliases: [],
    joins: false,
    dictionaries: [],
  };
  const functions = new Set<string>();
  nodes.forEach((node, i) => {
    const words = node.text.replace(/ \(children \d+\)$/, '');
    const alias = ALIAS.exec(words);
    const bare = words.replace(ALIAS, '');
    if (alias) ast.aliases.push({ alias: alias[1], node: bare });
    const [kind, name] = bare.split(' ');
    if (kind === 'SelectQuery') ast.selects++;
    else if (kind === 'TableIdentifier') ast.tables.push(name);
    else if (kind === 'TableJoin') ast.joins = true;
    else if (kind === 'Function') {
      const parent = [...nodes.slice(0, i)].reverse().find((n) => n.depth < node.depth);
      if (parent?.text.startsWith('TableExpression')) ast.tableFunctions.push(name);
      else functions.add(name);
      // `Function dictGet` → `ExpressionList` → its first argument.
      const first = nodes[i + 2];
      if (/^dict[A-Z]/.test(name) && first?.depth === node.depth + 2 && first.text.startsWith("Literal '")) {
        ast.dictionaries.push(first.text.slice("Literal '".length, -1));
      }
    }
  });
  ast.functions = [...functions];
  // Two tables in one FROM without JOIN are a comma join; EXPLAIN shows it the same way, with no TableJoin.
  if (ast.tables.length + ast.tableFunctions.length > 1) ast.joins = true;
  return ast;
}
