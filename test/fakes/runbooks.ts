import type { MessageTemplateSource, RunbookLibrary } from '../../handlers/ports';
import type { RichText, Runbook, RunbookStep } from '../../handlers/model/runbooks';

/** Runbooks held in memory; counts reads so a test can tell a cache from a re-read. */
export class InMemoryRunbookLibrary implements RunbookLibrary {
  reads = 0;

  constructor(private readonly runbooks: Runbook[]) {}

  async list(): Promise<Runbook[]> {
    this.reads++;
    // A copy, as the file adapter's callers get: the handler must not depend on mutating what it was given.
    return this.runbooks.map((r) => ({ ...r }));
  }
}

export class InMemoryTemplateSource implements MessageTemplateSource {
  constructor(private readonly templates: Record<string, string>) {}

  async get(name: string): Promise<string | undefined> {
    return Object.hasOwn(this.templates, name) ? this.templates[name] : undefined;
  }
}

export const plain = (text: string): RichText => [{ text }];

export function aRunbook(name: string, overrides: Partial<Runbook> = {}): Runbook {
  const steps: RunbookStep[] = [
    { text: plain('Acknowledge the page.'), details: [], commands: [] },
    { text: plain('Open the incident.'), details: [], commands: [] },
  ];
  return {
    name,
    title: name,
    summary: plain(`What ${name} is for.`),
    steps,
    url: `https://code.example/acme/platform/blob/master/runbooks/${name}.md`,
    ...overrides,
  };
}
