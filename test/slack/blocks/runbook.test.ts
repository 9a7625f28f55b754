import type { KnownBlock, SectionBlock } from '@slack/types';
import type { Runbook, RunbookStep } from '../../../handlers/model/runbooks';
import { lookUpRunbook } from '../../../handlers/runbook';
import { BLOCKS_LIMIT, SECTION_TEXT_LIMIT } from '../../../bot/slack/blocks/reply';
import {
  packIntoSections,
  runbookLookupReply,
  runbookReply,
  SEE_FULL_PAGE,
  stepMrkdwn,
  toMrkdwn,
  truncateMrkdwn,
} from '../../../bot/slack/blocks/runbook';
import { aRunbook, InMemoryRunbookLibrary, plain } from '../../fakes/runbooks';

const sectionTexts = (blocks: KnownBlock[]) => blocks.filter((b): b is SectionBlock => b.type === 'section').map((b) => b.text?.text ?? '');
const allText = (blocks: KnownBlock[]) => JSON.stringify(blocks);

/** What Slack would refuse: too many blocks, a section or header over its limit. */
function assertWithinSlackLimits(blocks: KnownBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(BLOCKS_LIMIT);
  for (const block of blocks) {
    if (block.type === 'section') expect(block.text!.text.length).toBeLessThanOrEqual(SECTION_TEXT_LIMIT);
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
    if (block.type === 'context') for (const e of block.elements) expect('text' in e ? e.text.length : 0).toBeLessThanOrEqual(2000);
  }
}

const step = (text: string, more: Partial<RunbookStep> = {}): RunbookStep => ({ text: plain(text), details: [], commands: [], ...more });

describe('toMrkdwn', () => {
  it('turns spans into Slack mrkdwn and escapes the control characters in text', () => {
    expect(
      toMrkdwn([
        { text: 'Run ' },
        { text: 'kubectl get pods -l app=<name>', code: true },
        { text: ' if ' },
        { text: 'p99 > 2s ', strong: true },
        { text: 'and ' },
        { text: 'then', emphasis: true },
        { text: ' read ' },
        { text: 'R&D', href: 'https://code.example/a b|c>d' },
      ]),
    ).toBe('Run `kubectl get pods -l app=&lt;name&gt;` if *p99 &gt; 2s* and _then_ read <https://code.example/a%20b%7Cc%3Ed|R&amp;D>');
  });

  it('keeps only the text of a link Slack cannot open', () => {
    expect(toMrkdwn([{ text: 'rollback', href: 'file:///srv/runbooks/deploy-and-promote.md#rollback' }])).toBe('rollback');
  });

  it('keeps bold inside a link', () => {
    expect(toMrkdwn([{ text: 'the page', strong: true, href: 'https://x.example/p' }])).toBe('<https://x.example/p|*the page*>');
  });
});

describe('stepMrkdwn', () => {
  it('numbers the step and shows its details and commands under it', () => {
    expect(stepMrkdwn(step('Check the backups.', { details: [plain('newest first')], commands: ['velero backup get'] }), 1)).toBe(
      '2. Check the backups.\n      • newest first\n```velero backup get```',
    );
  });
});

describe('truncateMrkdwn', () => {
  it('leaves short text alone', () => {
    expect(truncateMrkdwn('short', 100)).toBe('short');
  });

  it('cuts at a word, says there is more, and stays within the limit', () => {
    const cut = truncateMrkdwn('word '.repeat(1000), 300);
    expect(cut.length).toBeLessThanOrEqual(300);
    expect(cut.endsWith(`word\n${SEE_FULL_PAGE}`)).toBe(true);
  });

  it('never cuts a link in half', () => {
    const text = `${'a'.repeat(250)} <https://x.example/${'p'.repeat(100)}|link text>`;
    const cut = truncateMrkdwn(text, 300);
    expect(cut).not.toContain('<https');
    expect(cut.length).toBeLessThanOrEqual(300);
  });

  it('never leaves a code block open', () => {
    const text = `${'a '.repeat(100)}\`\`\`${'x'.repeat(400)}\`\`\``;
    const cut = truncateMrkdwn(text, 300);
    expect((cut.match(/```/g) ?? []).length % 2).toBe(0);
  });
});

describe('packIntoSections', () => {
  it('keeps whole entries together and splits between them', () => {
    const entries = Array.from({ length: 4 }, (_, i) => `${i}${'x'.repeat(1400)}`);
    const texts = packIntoSections(entries, 10);
    expect(texts).toHaveLength(2);
    expect(texts[0]!.startsWith('0')).toBe(true);
    expect(texts[1]!.startsWith('2')).toBe(true);
  });

  it('stops at the section count and marks the cut', () => {
    const entries = Array.from({ length: 10 }, () => 'y'.repeat(2000));
    const texts = packIntoSections(entries, 3);
    expect(texts).toHaveLength(3);
    expect(texts[2]!.endsWith(SEE_FULL_PAGE)).toBe(true);
  });

  it('stops at the character budget and marks the cut', () => {
    const texts = packIntoSections(['a'.repeat(100), 'b'.repeat(100), 'c'.repeat(100)], 10, 250);
    expect(texts.join('\n')).not.toContain('c');
    expect(texts[texts.length - 1]!.endsWith(SEE_FULL_PAGE)).toBe(true);
  });
});

describe('runbookReply', () => {
  const runbook: Runbook = aRunbook('on-call', {
    title: 'On call',
    summary: [{ text: 'Who answers pages & how fast.' }],
    steps: [step('Acknowledge within 5 minutes.'), step('Say in the channel what you are looking at.')],
  });

  it('shows the title, the summary, the steps as a numbered list and a link to the page', () => {
    const reply = runbookReply(runbook);
    expect(reply.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'On call', emoji: true } });
    const texts = sectionTexts(reply.blocks);
    expect(texts[0]).toBe('Who answers pages &amp; how fast.');
    expect(texts[1]).toBe('*Steps*\n1. Acknowledge within 5 minutes.\n2. Say in the channel what you are looking at.');
    const last = reply.blocks[reply.blocks.length - 1]!;
    expect(last.type).toBe('context');
    expect(allText([last])).toContain(`<${runbook.url}|Read the full runbook>`);
    expect(reply.text).toContain(runbook.url);
    expect(reply.visibility).toBe('in_channel');
    assertWithinSlackLimits(reply.blocks);
  });

  it('spells out a page URL Slack cannot link, for the console without a base URL', () => {
    const local = runbookReply({ ...runbook, url: 'file:///srv/runbooks/on-call.md' });
    expect(allText([local.blocks[local.blocks.length - 1]!])).toContain('Read the full runbook: file:///srv/runbooks/on-call.md');
  });

  it('links the page when it has no numbered steps', () => {
    const reply = runbookReply({ ...runbook, steps: [] });
    expect(sectionTexts(reply.blocks)[1]).toContain(`<${runbook.url}|read it in full>`);
  });

  it('stays within Slack limits for a huge page and says where the rest is', () => {
    const huge: Runbook = {
      ...runbook,
      title: 'T'.repeat(400),
      summary: plain('s'.repeat(5000)),
      steps: Array.from({ length: 300 }, (_, i) => step(`${'step '.repeat(60)}${i}`, { details: [plain('d'.repeat(200))] })),
    };
    const reply = runbookReply(huge);
    assertWithinSlackLimits(reply.blocks);
    expect(allText(reply.blocks)).toContain(SEE_FULL_PAGE);
    expect(reply.blocks[reply.blocks.length - 1]!.type).toBe('context');
  });

  it('survives a single step longer than a section', () => {
    const reply = runbookReply({ ...runbook, steps: [step('z'.repeat(8000))] });
    assertWithinSlackLimits(reply.blocks);
    expect(allText(reply.blocks)).toContain(SEE_FULL_PAGE);
  });
});

describe('runbookLookupReply', () => {
  const library = new InMemoryRunbookLibrary([
    aRunbook('on-call', { title: 'On call' }),
    aRunbook('incident-management', { title: 'Incident management' }),
    aRunbook('alerts/KubePodCrashLooping', { title: 'Pods crash looping' }),
  ]);

  it('lists the runbooks grouped, each linked, privately', async () => {
    const reply = runbookLookupReply(await lookUpRunbook(library));
    const text = sectionTexts(reply.blocks).join('\n');
    expect(text).toMatch(/^\*Process\*\n• <[^|]+incident-management\.md\|incident-management> — Incident management\n• <[^|]+on-call\.md\|on-call> — On call\n\*Alert pages\*\n• <[^|]+KubePodCrashLooping\.md\|alerts\/KubePodCrashLooping> — Pods crash looping$/);
    expect(reply.visibility).toBe('ephemeral');
    assertWithinSlackLimits(reply.blocks);
  });

  it('answers an unknown name with suggestions and the list', async () => {
    const reply = runbookLookupReply(await lookUpRunbook(library, 'oncal'));
    const texts = sectionTexts(reply.blocks);
    expect(texts[0]).toBe(':mag: No runbook named `oncal`. Did you mean `on-call`?');
    expect(texts.join('\n')).toContain('incident-management');
    expect(reply.text).toMatch(/^No runbook named "oncal"/);
  });

  it('escapes what the person typed', async () => {
    const reply = runbookLookupReply({ kind: 'unknown', requested: '<!channel>', suggestions: [], runbooks: [] });
    expect(sectionTexts(reply.blocks)[0]).toBe(':mag: No runbook named `&lt;!channel&gt;`.');
  });

  it('shows the page when the name is known', async () => {
    const reply = runbookLookupReply(await lookUpRunbook(library, 'on-call'));
    expect(reply.blocks[0]).toMatchObject({ type: 'header', text: { text: 'On call' } });
  });

  it('stays within Slack limits with hundreds of alert pages', () => {
    const runbooks = Array.from({ length: 400 }, (_, i) => aRunbook(`alerts/SomeFairlyLongAlertName${i}`, { title: 'A title that explains the alert' }));
    const reply = runbookLookupReply({ kind: 'list', runbooks });
    assertWithinSlackLimits(reply.blocks);
    expect(allText(reply.blocks)).toContain(SEE_FULL_PAGE);
  });
});
