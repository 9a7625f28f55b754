import { GRAMMARS, VERBS, type Verb } from '../../router';
import { context, escapeMrkdwn, header, section, type Reply } from './reply';

export function helpReply(topic?: Verb): Reply {
  if (topic) {
    const g = GRAMMARS[topic];
    const usage = g.usage.map((u) => `\`/cockpit ${u}\``).join('\n');
    return { text: `/cockpit ${topic}: ${g.summary}`, visibility: 'ephemeral', blocks: [section(`*${topic}* — ${g.summary}\n${usage}`)] };
  }
  const lines = VERBS.map((v) => `\`/cockpit ${GRAMMARS[v].usage[0]}\` — ${GRAMMARS[v].summary}`);
  return {
    text: 'Cockpit commands',
    visibility: 'ephemeral',
    blocks: [header('Cockpit commands'), section(lines.join('\n')), context('`/cockpit help <command>` for the details of one.')],
  };
}

/**
 * Bad input: what was wrong, the one way to say it (when a command was recognised), and where the rest is.
 * Ephemeral, so nobody else sees the typo.
 */
export function usageReply(error: string, usage: string): Reply {
  const pointer = '`/cockpit help` lists every command.';
  return {
    text: [error, usage, pointer].filter(Boolean).join('\n'),
    visibility: 'ephemeral',
    blocks: [section(`:warning: ${escapeMrkdwn(error)}`), ...(usage ? [section(`Usage:\n\`\`\`${usage}\`\`\``)] : []), context(pointer)],
  };
}
