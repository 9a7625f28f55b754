import {
  findRunbook,
  listRunbooks,
  lookUpRunbook,
  normaliseRunbookName,
  sortRunbooks,
  suggestRunbooks,
} from '../../handlers/runbook';
import { aRunbook, InMemoryRunbookLibrary } from '../fakes/runbooks';

const library = () =>
  new InMemoryRunbookLibrary([
    aRunbook('alerts/KubePodCrashLooping'),
    aRunbook('on-call'),
    aRunbook('alerts/VeleroBackupFailed'),
    aRunbook('incident-management'),
    aRunbook('deploy-and-promote'),
    aRunbook('disaster-recovery'),
  ]);

describe('listing runbooks', () => {
  it('puts the process pages first, then the alert pages, each group by name', async () => {
    const names = (await listRunbooks(library())).map((r) => r.name);
    expect(names).toEqual([
      'deploy-and-promote',
      'disaster-recovery',
      'incident-management',
      'on-call',
      'alerts/KubePodCrashLooping',
      'alerts/VeleroBackupFailed',
    ]);
  });

  it('does not reorder the array it was given', () => {
    const given = [aRunbook('b'), aRunbook('a')];
    sortRunbooks(given);
    expect(given.map((r) => r.name)).toEqual(['b', 'a']);
  });

  it('answers no name with the list', async () => {
    const lookup = await lookUpRunbook(library());
    expect(lookup.kind).toBe('list');
    expect(lookup.kind === 'list' && lookup.runbooks).toHaveLength(6);
    expect((await lookUpRunbook(library(), '   ')).kind).toBe('list');
  });
});

describe('finding a runbook by name', () => {
  it('matches the file stem in any case', async () => {
    const lookup = await lookUpRunbook(library(), 'On-Call');
    expect(lookup).toMatchObject({ kind: 'found', runbook: { name: 'on-call' } });
  });

  it('matches an alert page by its path, in any case (the router lower-cases what people type)', async () => {
    const lookup = await lookUpRunbook(library(), 'alerts/kubepodcrashlooping');
    expect(lookup).toMatchObject({ kind: 'found', runbook: { name: 'alerts/KubePodCrashLooping' } });
  });

  it('matches an alert page by its bare name when only one page has it', () => {
    const runbooks = [aRunbook('alerts/KubePodCrashLooping'), aRunbook('on-call')];
    expect(findRunbook(runbooks, 'kubepodcrashlooping')?.name).toBe('alerts/KubePodCrashLooping');
  });

  it('refuses a bare name that two folders share rather than guess', () => {
    const runbooks = [aRunbook('alerts/Disk'), aRunbook('legacy/Disk')];
    expect(findRunbook(runbooks, 'disk')).toBeUndefined();
    expect(findRunbook(runbooks, 'legacy/disk')?.name).toBe('legacy/Disk');
  });

  it('accepts the path as it appears in the repository', () => {
    expect(normaliseRunbookName('runbooks/On-Call.md')).toBe('on-call');
    expect(normaliseRunbookName('/alerts/X.md')).toBe('alerts/x');
    expect(findRunbook([aRunbook('on-call')], 'runbooks/on-call.md')?.name).toBe('on-call');
  });

  it('does not let a path in a folder match a page outside it', () => {
    expect(findRunbook([aRunbook('on-call')], 'alerts/on-call')).toBeUndefined();
  });
});

describe('an unknown name', () => {
  it('is a result carrying the whole list, not an error', async () => {
    const lookup = await lookUpRunbook(library(), 'nope');
    expect(lookup.kind).toBe('unknown');
    if (lookup.kind !== 'unknown') return;
    expect(lookup.requested).toBe('nope');
    expect(lookup.runbooks.map((r) => r.name)).toContain('on-call');
    expect(lookup.suggestions).toEqual([]);
  });

  it('suggests the names a typo away, closest first', async () => {
    const lookup = await lookUpRunbook(library(), 'oncall');
    expect(lookup.kind === 'unknown' && lookup.suggestions.map((r) => r.name)).toEqual(['on-call']);
    const typo = await lookUpRunbook(library(), 'disaster-recovry');
    expect(typo.kind === 'unknown' && typo.suggestions.map((r) => r.name)).toEqual(['disaster-recovery']);
  });

  it('suggests the names that contain what was typed', () => {
    const runbooks = [aRunbook('alerts/VeleroBackupFailed'), aRunbook('alerts/VeleroRestoreFailed'), aRunbook('on-call')];
    const names = suggestRunbooks(runbooks, 'velero').map((r) => r.name);
    expect(names).toEqual(['alerts/VeleroBackupFailed', 'alerts/VeleroRestoreFailed']);
  });

  it('keeps suggestions to a few', () => {
    const many = Array.from({ length: 10 }, (_, i) => aRunbook(`alerts/Kube${i}`));
    expect(suggestRunbooks(many, 'kube')).toHaveLength(3);
  });

  it('does not suggest everything for a very short word', () => {
    expect(suggestRunbooks([aRunbook('on-call'), aRunbook('go-live')], 'x')).toEqual([]);
  });
});

it('reads the library once per lookup', async () => {
  const lib = library();
  await lookUpRunbook(lib, 'on-call');
  expect(lib.reads).toBe(1);
});
