export { DEFAULT_RUNBOOKS_DIR, FileMessageTemplateSource, FileRunbookLibrary, runbookNames, runbookUrl, type RunbookFolderOptions } from './library';
export { githubSlug, outline, parseRunbook, resolveHref, type Fence, type Heading, type Link, type Outline } from './markdown';
