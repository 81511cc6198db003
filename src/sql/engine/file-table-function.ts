import type { FileReader } from '../../shared/import-file-source';
import { quoteAllowListedIdentifier as q } from './quote-identifier';

/**
 * The table function reading `reader`'s files in `format` (the reader's own unless given, e.g. `One` to list):
 * `s3(…)`, `url(…)` or `file(…)`, its path and format as query parameters `{<prefix>_path}`/`{<prefix>_format}`,
 * or, with a named collection, `s3(<collection>, url = …, format = …)` (its name through the allow-list
 * quoting). No credential is ever part of it: the server finds them in its environment or the named collection.
 * Shared by the import from files and `validate --reference`.
 */
export function fileTableFunction(
  reader: FileReader,
  format?: string,
  prefix = 'import',
): { sql: string; params: Record<string, string> } {
  const [path, fmt] = [`${prefix}_path`, `${prefix}_format`];
  const params = { [path]: reader.path, [fmt]: format ?? reader.format };
  if (reader.namedCollection !== undefined) {
    return {
      sql: `${reader.fn}(${q(reader.namedCollection)}, url = {${path}:String}, format = {${fmt}:String})`,
      params,
    };
  }
  return { sql: `${reader.fn}({${path}:String}, {${fmt}:String})`, params };
}
