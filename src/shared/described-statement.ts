/** One statement of a dry run: the step that runs it, its text and parameters exactly as sent, and its settings. */
export interface DescribedStatement {
  step: string;
  query: string;
  params: Record<string, unknown>;
  settings?: Record<string, number | string>;
}
