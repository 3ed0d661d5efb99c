/**
 * Links between the repository's Markdown pages (README.md, docs/*.md) point at files and headings
 * that exist: a heading renamed or a benchmark section re-dated breaks no link silently. Anchors as
 * headingAnchor makes them (GitHub's rule: lower case, punctuation dropped, spaces to hyphens).
 */
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { markdownAnchors } from '../helpers/deploy.ts';
import { repoRoot } from '../helpers/env.ts';

const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('Markdown links', () => {
  test('every link to a page of the repository names an existing file, and its anchor an existing heading', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(repoRoot, page), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, path, anchor] of text.matchAll(/\]\((?!https?:|mailto:)([^)\s#]*)(?:#([^)\s]+))?\)/g)) {
        const target = path ? normalize(join(dirname(page), path)) : page;
        if (!existsSync(join(repoRoot, target))) {
          broken.push(`${page}: ${path} (no such file)`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !markdownAnchors(target).has(anchor)) broken.push(`${page}: ${target}#${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
