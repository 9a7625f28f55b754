import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UnavailableError } from '../../../handlers/errors';
import {
  FileMessageTemplateSource,
  FileRunbookLibrary,
  githubSlug,
  outline,
  parseRunbook,
  runbookNames,
  runbookUrl,
} from '../../../bot/integrations/runbooks';

const BASE = 'https://code.example/acme/platform/blob/master/runbooks/';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cockpit-runbooks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(relative: string, text: string): void {
  mkdirSync(join(dir, relative, '..'), { recursive: true });
  writeFileSync(join(dir, relative), text);
}

describe('parseRunbook', () => {
  const page = [
    '# Disaster recovery',
    '',
    'What we back up, and how to get it **back**',
    'by hand. See [on-call](on-call.md#rotations).',
    '',
    'Second paragraph, not the summary.',
    '',
    '1. A list before the steps section is not the steps.',
    '',
    '## What is backed up',
    '',
    'Text.',
    '',
    '## Steps',
    '',
    'Intro sentence.',
    '',
    '- a bullet list is not the steps either',
    '',
    '1. Freeze deploys: [freezes](deploy-and-promote.md#freezes).',
    '   - only the fix goes out',
    '   - with a reason',
    '2. Pick the backup:',
    '',
    '   ```sh',
    '   velero backup get',
    '   ```',
    '',
    '   1. nested ordered items are details too',
    '3. Restore. See [below](#restore-by-hand).',
    '',
    '## Restore by hand',
    '',
    '1. Not a step.',
  ].join('\n');

  it('reads the title, the first paragraph and the numbered list of the Steps section', () => {
    const runbook = parseRunbook(page, { name: 'disaster-recovery', url: `${BASE}disaster-recovery.md` });
    expect(runbook.title).toBe('Disaster recovery');
    expect(runbook.summary).toEqual([
      { text: 'What we back up, and how to get it ' },
      { text: 'back', strong: true },
      { text: ' by hand. See ' },
      { text: 'on-call', href: `${BASE}on-call.md#rotations` },
      { text: '.' },
    ]);
    expect(runbook.steps).toEqual([
      {
        text: [{ text: 'Freeze deploys: ' }, { text: 'freezes', href: `${BASE}deploy-and-promote.md#freezes` }, { text: '.' }],
        details: [[{ text: 'only the fix goes out' }], [{ text: 'with a reason' }]],
        commands: [],
      },
      { text: [{ text: 'Pick the backup:' }], details: [[{ text: 'nested ordered items are details too' }]], commands: ['velero backup get'] },
      { text: [{ text: 'Restore. See ' }, { text: 'below', href: `${BASE}disaster-recovery.md#restore-by-hand` }, { text: '.' }], details: [], commands: [] },
    ]);
  });

  it('falls back to the first numbered list when there is no Steps section', () => {
    const runbook = parseRunbook('# T\n\nSummary.\n\n## Mitigation\n\n1. Scale up.\n2. Roll back.\n', { name: 'alerts/X', url: `${BASE}alerts/X.md` });
    expect(runbook.steps.map((s) => s.text[0]!.text)).toEqual(['Scale up.', 'Roll back.']);
  });

  it('never throws on a page missing its parts', () => {
    expect(parseRunbook('', { name: 'empty', url: `${BASE}empty.md` })).toEqual({ name: 'empty', title: 'empty', summary: [], steps: [], url: `${BASE}empty.md` });
  });

  it('keeps links that are already absolute', () => {
    const runbook = parseRunbook('# T\n\nSee [docs](https://velero.io/docs/).\n', { name: 't', url: `${BASE}t.md` });
    expect(runbook.summary[1]).toEqual({ text: 'docs', href: 'https://velero.io/docs/' });
  });
});

describe('outline', () => {
  it('gives headings with GitHub anchors (repeats numbered), links with lines, and fenced blocks', () => {
    const o = outline('# Title\n\n## Who acts — and when?\n\n## Steps\n\n## Steps\n\nSee [x](a.md#b) and `[not](a link)`.\n\n```mermaid\nflowchart TD\n  A --> B\n```\n');
    expect(o.headings.map((h) => h.slug)).toEqual(['title', 'who-acts--and-when', 'steps', 'steps-1']);
    expect(o.links).toEqual([{ href: 'a.md#b', line: 9 }]);
    expect(o.fences).toEqual([{ language: 'mermaid', content: 'flowchart TD\n  A --> B\n', line: 11 }]);
  });

  it('slugs like GitHub', () => {
    expect(githubSlug('SEV1–SEV4: impact × urgency')).toBe('sev1sev4-impact--urgency');
    expect(githubSlug('Acknowledging a page (L1, L2, L3)')).toBe('acknowledging-a-page-l1-l2-l3');
    expect(githubSlug('`/cockpit deploy` risk report')).toBe('cockpit-deploy-risk-report');
  });
});

describe('FileRunbookLibrary', () => {
  it('lists every page under the folder, alert pages by path, without templates and READMEs', async () => {
    write('on-call.md', '# On call\n\nWho answers.\n\n## Steps\n\n1. Ack.\n');
    write('alerts/KubePodCrashLooping.md', '# Pods crash looping\n\nA pod restarts.\n\n1. Look.\n');
    write('alerts/README.md', '# Alert pages\n');
    write('README.md', '# Runbooks\n');
    write('templates/incident-opened.md', '{{incident.title}}\n');
    write('notes.txt', 'not markdown');
    const library = new FileRunbookLibrary({ dir, baseUrl: BASE });
    const runbooks = await library.list();
    expect(runbooks.map((r) => r.name)).toEqual(['alerts/KubePodCrashLooping', 'on-call']);
    expect(runbooks[0]).toMatchObject({ title: 'Pods crash looping', url: `${BASE}alerts/KubePodCrashLooping.md` });
    expect(runbooks[1]!.steps).toHaveLength(1);
  });

  it('reads the folder once and keeps it', async () => {
    write('on-call.md', '# On call\n');
    const library = new FileRunbookLibrary({ dir, baseUrl: BASE });
    await library.list();
    write('on-call.md', '# Changed\n');
    write('new.md', '# New\n');
    expect((await library.list()).map((r) => r.title)).toEqual(['On call']);
  });

  it('tries again after a failed read instead of keeping the failure', async () => {
    const missing = join(dir, 'later');
    const library = new FileRunbookLibrary({ dir: missing, baseUrl: BASE });
    await expect(library.list()).rejects.toThrow(new UnavailableError(`There is no runbooks folder at ${missing}.`));
    await expect(library.list()).rejects.toBeInstanceOf(UnavailableError);
    mkdirSync(missing);
    writeFileSync(join(missing, 'go-live.md'), '# Go live\n');
    expect((await library.list()).map((r) => r.name)).toEqual(['go-live']);
  });

  it('points at the files on disk when no base URL is configured', async () => {
    write('on-call.md', '# On call\n\nSee [DR](disaster-recovery.md).\n');
    const [runbook] = await new FileRunbookLibrary({ dir }).list();
    expect(runbook!.url).toBe(pathToFileURL(join(dir, 'on-call.md')).toString());
    expect(runbook!.summary[1]!.href).toBe(pathToFileURL(join(dir, 'disaster-recovery.md')).toString());
  });
});

describe('runbookUrl and runbookNames', () => {
  it('joins the base with or without its trailing slash', () => {
    expect(runbookUrl('alerts/X', { dir, baseUrl: BASE.slice(0, -1) })).toBe(`${BASE}alerts/X.md`);
  });

  it('finds nested folders', async () => {
    write('a/b/c.md', '# C\n');
    expect(await runbookNames(dir)).toEqual(['a/b/c']);
  });
});

describe('FileMessageTemplateSource', () => {
  it('reads runbooks/templates/<name>.md, and answers undefined for a missing one', async () => {
    write('templates/ticket-taken.md', 'Hello {{customer.name}}\n');
    const source = new FileMessageTemplateSource({ dir });
    await expect(source.get('ticket-taken')).resolves.toBe('Hello {{customer.name}}\n');
    await expect(source.get('ticket-gone')).resolves.toBeUndefined();
  });

  it('never reads outside the templates folder', async () => {
    write('secret.md', 'not a template');
    const source = new FileMessageTemplateSource({ dir });
    await expect(source.get('../secret')).resolves.toBeUndefined();
    await expect(source.get('/etc/passwd')).resolves.toBeUndefined();
  });
});
