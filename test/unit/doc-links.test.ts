import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Every relative link of the documentation resolves: the file or folder it names exists (source files included,
 * so a moved file shows up here), and a `#anchor` into a Markdown file names one of its headings. Every page is
 * linked from the README.
 */

const repoRoot = path.resolve(__dirname, '..', '..');

function markdownUnder(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownUnder(relative);
    return entry.name.endsWith('.md') ? [relative] : [];
  });
}

const pages = ['README.md', 'CONTRIBUTING.md', 'bench/README.md', ...markdownUnder('docs')];

/** The text outside fenced code blocks, with inline code spans blanked out (their brackets are not links). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`+[^`]*`+/g, (span) => ' '.repeat(span.length));
  });
}

/** The link targets of a page: inline links `[text](target)` and reference definitions `[name]: target`. */
function linkTargets(markdown: string): string[] {
  const lines = prose(markdown);
  const inline = lines.flatMap((line) =>
    [...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
  );
  const definitions = lines.flatMap((line) => {
    const m = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/.exec(line);
    return m ? [m[1]] : [];
  });
  return [...inline, ...definitions];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, … */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe('documentation links', () => {
  it('finds the pages and their links', () => {
    expect(pages.length).toBeGreaterThan(5);
    expect(linkTargets(readFileSync(path.join(repoRoot, 'README.md'), 'utf8')).length).toBeGreaterThan(10);
  });

  it.each(pages)('%s: every relative link resolves', (page) => {
    const markdown = readFileSync(path.join(repoRoot, page), 'utf8');
    const broken: string[] = [];
    for (const target of linkTargets(markdown).filter((t) => !isExternal(t))) {
      const [file, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = file === '' ? path.join(repoRoot, page) : path.resolve(repoRoot, path.dirname(page), file);
      if (!resolved.startsWith(repoRoot) || !existsSync(resolved)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()) {
        const anchors = headingAnchors(readFileSync(resolved, 'utf8'));
        if (!anchors.has(decodeURIComponent(anchor))) broken.push(`${target}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('links every page from the README', () => {
    const linked = new Set(
      linkTargets(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'))
        .filter((t) => !isExternal(t))
        .map((t) => path.normalize(t.split('#')[0])),
    );
    const unlinked = pages.filter((page) => page !== 'README.md' && !linked.has(path.normalize(page)));
    expect(unlinked).toEqual([]);
  });

  it('computes anchors as GitHub does', () => {
    const anchors = headingAnchors(
      '# What `progress` returns\n## `--only`\n## Limits\n## Limits\n```\n# not a heading\n```',
    );
    expect([...anchors]).toEqual(['what-progress-returns', '--only', 'limits', 'limits-1']);
  });
});
