import type { Pager } from '../../handlers/ports';

type PageRequest = Parameters<Pager['page']>[0];

/** The pager as the on-call capability will provide it: a page per open source, raised again adds nothing. */
export class MemoryPager implements Pager {
  readonly pages: Array<PageRequest & { pageId: string; resolvedBy?: string }> = [];

  async page(request: PageRequest): Promise<{ pageId: string; created: boolean }> {
    const open = this.pages.find((p) => !p.resolvedBy && p.source.kind === request.source.kind && p.source.ref === request.source.ref);
    if (open) return { pageId: open.pageId, created: false };
    const pageId = `P${this.pages.length + 1}`;
    this.pages.push({ ...structuredClone(request), pageId });
    return { pageId, created: true };
  }

  async resolveSource(source: PageRequest['source'], by: string): Promise<void> {
    for (const p of this.pages) if (!p.resolvedBy && p.source.kind === source.kind && p.source.ref === source.ref) p.resolvedBy = by;
  }
}
