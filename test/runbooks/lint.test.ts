import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { outline, parseRunbook } from '../../bot/integrations/runbooks';
// Imported, not parsed: the rules are data, and a missing or renamed export fails this suite outright.
import { ALERT_RULES } from '../../infra/alerts/rules';
import { coverage } from '../../infra/alerts/ruleTests';
import { TEMPLATE_NAMES, TEMPLATES, isTemplateName, renderTemplate, templateProblems, type TemplateName } from '../../handlers/templates';
import { brokenLinks, markdownFiles, mermaidBlocks, parseMermaid, type MermaidResult } from './lintTools';

/**
 * The runbooks lint: the written process stays complete, its diagrams render, its message templates use only
 * what the code fills, every alert has its page and its rule unit tests, and no link inside runbooks/ is broken.
 */

const REPOSITORY = join(__dirname, '..', '..');
const RUNBOOKS = join(REPOSITORY, 'runbooks');
const ALERTS = join(RUNBOOKS, 'alerts');
const TEMPLATES_DIR = join(RUNBOOKS, 'templates');

/**
 * Every process runbook, the `## ` sections it must have (any order, more allowed) and the diagram kinds it
 * must draw. A new page joins this table, so adding one is a decision, not an accident.
 */
const REQUIRED: Record<string, { sections: string[]; diagrams: Array<'stateDiagram' | 'flowchart'> }> = {
  'incident-management': {
    sections: ['Steps', 'Lifecycle', 'Severity', 'Roles', 'Escalation', 'Customer communication', 'Post-incident review'],
    diagrams: ['stateDiagram', 'flowchart'],
  },
  'on-call': {
    sections: ['Steps', 'Rotations', 'Handover', 'Overrides and swaps', 'Acknowledging a page', 'When nobody answers'],
    diagrams: ['flowchart'],
  },
  'deploy-and-promote': {
    sections: ['Steps', 'Stacks and branches', 'Pull request flow', 'Approvals', 'Risk report', 'Freezes', 'Rollback'],
    diagrams: ['flowchart'],
  },
  'disaster-recovery': {
    sections: ['Steps', 'What is backed up', 'Targets', 'Restore by hand', 'Restore drill', 'Drill gate on promotion'],
    diagrams: ['flowchart'],
  },
  'support-tickets': {
    sections: ['Steps', 'Statuses', 'Who takes a ticket', 'Customer messages'],
    diagrams: ['stateDiagram'],
  },
  'go-live': {
    sections: ['Steps', 'Readiness checklist', 'Alpha on staging'],
    diagrams: ['flowchart'],
  },
};

const read = (file: string) => readFileSync(file, 'utf8');
const pageName = (file: string) => relative(RUNBOOKS, file).split('\\').join('/').replace(/\.md$/, '');
const allMarkdown = markdownFiles(RUNBOOKS);
const isReadme = (file: string) => basename(file).toLowerCase() === 'readme.md';
const runbookFiles = allMarkdown.filter((f) => !isReadme(f) && !f.startsWith(TEMPLATES_DIR + '/'));
const processPages = runbookFiles.filter((f) => !f.startsWith(ALERTS + '/'));
const alertPages = runbookFiles.filter((f) => f.startsWith(ALERTS + '/'));

let mermaidResults: MermaidResult[] = [];
beforeAll(() => {
  mermaidResults = parseMermaid(mermaidBlocks(allMarkdown, REPOSITORY));
}, 60_000);

describe('process runbooks', () => {
  it.each(Object.keys(REQUIRED))('%s.md exists', (name) => {
    expect(existsSync(join(RUNBOOKS, `${name}.md`))).toBe(true);
  });

  it('are all declared in the table of required sections', () => {
    expect(processPages.map(pageName).filter((n) => !(n in REQUIRED))).toEqual([]);
  });

  it.each(Object.entries(REQUIRED))('%s has its required sections', (name, { sections }) => {
    const file = join(RUNBOOKS, `${name}.md`);
    if (!existsSync(file)) throw new Error(`runbooks/${name}.md is missing`);
    const present = new Set(outline(read(file)).headings.filter((h) => h.level === 2).map((h) => h.text.toLowerCase()));
    expect(sections.filter((s) => !present.has(s.toLowerCase()))).toEqual([]);
  });

  it.each(Object.entries(REQUIRED))('%s draws its diagrams', (name, { diagrams }) => {
    const drawn = mermaidResults.filter((r) => r.id.startsWith(`runbooks/${name}.md:`) && r.ok).map((r) => (r.ok ? r.type : ''));
    expect(diagrams.filter((kind) => !drawn.some((type) => type.startsWith(kind)))).toEqual([]);
  });
});

describe('every runbook page, process and alert', () => {
  it.each(runbookFiles.map((f) => [pageName(f), f]))('%s has a title, a summary and numbered steps the bot can show', (name, file) => {
    const runbook = parseRunbook(read(file), { name, url: `https://runbooks.example/${name}.md` });
    const problems: string[] = [];
    if (!/^# /m.test(read(file))) problems.push('no "# Title" line');
    if (runbook.summary.length === 0) problems.push('no paragraph under the title (the summary)');
    if (runbook.steps.length === 0) problems.push('no numbered list (under "## Steps", or anywhere)');
    if (runbook.steps.some((s) => s.text.length === 0)) problems.push('a step with no text of its own');
    expect(problems).toEqual([]);
  });
});

describe('mermaid diagrams', () => {
  it('exist', () => {
    expect(mermaidResults.length).toBeGreaterThan(0);
  });

  it('all parse with mermaid', () => {
    expect(mermaidResults.filter((r) => !r.ok)).toEqual([]);
  });

  it('the check itself fails on broken diagrams of each kind we draw', () => {
    const results = parseMermaid([
      { id: 'good-state', text: 'stateDiagram-v2\n  [*] --> New\n  New --> Closed: done\n' },
      { id: 'good-flow', text: 'flowchart TD\n  A[Alert] -->|page| B{Ack?}\n' },
      { id: 'bad-state', text: 'stateDiagram-v2\n  [*] --> --> New\n' },
      { id: 'bad-flow', text: 'flowchart TD\n  A[Alert --> B{\n' },
      { id: 'no-diagram', text: 'not a diagram\n' },
    ]);
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ['good-state', true],
      ['good-flow', true],
      ['bad-state', false],
      ['bad-flow', false],
      ['no-diagram', false],
    ]);
  }, 60_000);
});

describe('message templates', () => {
  const files = markdownFiles(TEMPLATES_DIR).filter((f) => !isReadme(f));
  const names = files.map((f) => basename(f, '.md'));

  it('exist for every template the code fills', () => {
    expect(TEMPLATE_NAMES.filter((n) => !names.includes(n))).toEqual([]);
  });

  it('are all known to the code, so none is silently never sent', () => {
    expect(names.filter((n) => !isTemplateName(n))).toEqual([]);
  });

  it.each(files.filter((f) => isTemplateName(basename(f, '.md'))).map((f) => [basename(f, '.md'), f]))(
    '%s uses only the placeholders its registry entry allows',
    (name, file) => {
      expect(templateProblems(name as TemplateName, read(file))).toEqual([]);
    },
  );

  it.each(files.filter((f) => isTemplateName(basename(f, '.md'))).map((f) => [basename(f, '.md'), f]))(
    '%s renders with every value given',
    (name, file) => {
      const spec = TEMPLATES[name as TemplateName];
      const vars = Object.fromEntries([...spec.required, ...spec.optional].map((k) => [k, `<${k}>`]));
      const text = renderTemplate(name as TemplateName, read(file), vars as never);
      expect(text).not.toMatch(/\{\{|\}\}/);
      expect(text.length).toBeGreaterThan(0);
    },
  );
});

describe('alert pages', () => {
  it('exist for every alert rule in infra/, and belong to one', () => {
    expect(ALERT_RULES.length).toBeGreaterThan(0);
    const missing = ALERT_RULES.filter((r) => !existsSync(join(RUNBOOKS, r.runbook))).map((r) => `${r.alert} → runbooks/${r.runbook}`);
    expect(missing).toEqual([]);
    const claimed = new Set(ALERT_RULES.map((r) => join(RUNBOOKS, r.runbook)));
    expect(alertPages.filter((f) => !claimed.has(f)).map((f) => relative(REPOSITORY, f))).toEqual([]);
  });
});

describe('rule unit tests (infra/alerts/ruleTests.ts, run by promtool in test/infra/tools.test.ts)', () => {
  const { fires, staysSilent } = coverage();

  it.each(ALERT_RULES.map((r) => [r.alert]))('%s has a case that fires it and a case where it must stay silent', (alert) => {
    expect({ alert, fires: fires.has(alert), staysSilent: staysSilent.has(alert) }).toEqual({ alert, fires: true, staysSilent: true });
  });

  it('name only alerts that exist', () => {
    const known = new Set(ALERT_RULES.map((r) => r.alert));
    expect([...fires, ...staysSilent].filter((a) => !known.has(a))).toEqual([]);
  });
});

describe('links inside runbooks/', () => {
  it('all resolve, anchors included', () => {
    expect(brokenLinks(allMarkdown, REPOSITORY)).toEqual([]);
  });

  it('the check itself reports a missing file, a missing anchor and a link out of the repository', () => {
    const root = mkdtempSync(join(tmpdir(), 'cockpit-links-'));
    try {
      mkdirSync(join(root, 'runbooks', 'alerts'), { recursive: true });
      writeFileSync(join(root, 'runbooks', 'on-call.md'), '# On call\n\n## When nobody answers\n\nSee [top](#on-call).\n');
      writeFileSync(
        join(root, 'runbooks', 'alerts', 'X.md'),
        [
          '# X',
          '',
          '[ok](../on-call.md#when-nobody-answers) [ok too](../on-call.md) [web](https://example.com/#nope)',
          '[gone](../nope.md) [bad anchor](../on-call.md#when-somebody-answers) [here](#x) [missing here](#y)',
          '[escape](../../../etc/passwd)',
        ].join('\n'),
      );
      const files = markdownFiles(join(root, 'runbooks'));
      expect(brokenLinks(files, root)).toEqual([
        'runbooks/alerts/X.md:4: "../nope.md": no such file runbooks/nope.md',
        'runbooks/alerts/X.md:4: "../on-call.md#when-somebody-answers": runbooks/on-call.md has no heading #when-somebody-answers',
        'runbooks/alerts/X.md:4: "#y": runbooks/alerts/X.md has no heading #y',
        'runbooks/alerts/X.md:5: "../../../etc/passwd" points outside the repository',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
