/** The team's written process, parsed: runbooks and their steps, as rich text. */

/** A run of inline text from a runbook; links are absolute, so any front can show them as they are. */
export interface TextSpan {
  text: string;
  code?: boolean;
  strong?: boolean;
  emphasis?: boolean;
  href?: string;
}

/** Inline text as spans in reading order: the shape runbook text has once parsed, free of Markdown syntax. */
export type RichText = TextSpan[];

export interface RunbookStep {
  text: RichText;
  /** The items of a list nested under the step, one level deep. */
  details: RichText[];
  /** Code blocks inside the step, verbatim: the commands to type. */
  commands: string[];
}

export interface Runbook {
  /** Path under runbooks/ without `.md`, e.g. `on-call` or `alerts/KubePodCrashLooping`. */
  name: string;
  title: string;
  /** The first paragraph under the title. */
  summary: RichText;
  /** The numbered list under the `## Steps` section, else the first numbered list of the page. */
  steps: RunbookStep[];
  /** Where a person reads the whole page. */
  url: string;
}
