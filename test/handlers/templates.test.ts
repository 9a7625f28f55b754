import { TICKET_STATUSES } from '../../handlers/ticketModel';
import {
  allowedPlaceholders,
  missingValues,
  placeholdersIn,
  renderMessage,
  renderTemplate,
  TEMPLATE_NAMES,
  TemplateError,
  templateProblems,
  TICKET_STATUS_TEMPLATES,
} from '../../handlers/templates';
import { InMemoryTemplateSource } from '../fakes/runbooks';

const opened = [
  '<!-- Notes for whoever edits this file: {{not.a.placeholder}} is fine in here. -->',
  '**{{ incident.severity }} — {{incident.title}}** ({{incident.id}})',
  '',
  'Status: {{incident.status}} since {{incident.startedAt}}.',
  'Affected: {{incident.stack}}',
  '',
  '{{message}}',
  '',
  'Next update by {{nextUpdateBy}}.',
].join('\n');

const openedVars = {
  'incident.id': 'INC-12',
  'incident.title': 'Deploys failing',
  'incident.severity': 'SEV2',
  'incident.status': 'investigating',
  'incident.startedAt': '14:03 UTC',
};

describe('renderTemplate', () => {
  it('fills every placeholder, spaces inside the braces or not, and drops the comment', () => {
    const text = renderTemplate('incident-opened', opened, {
      ...openedVars,
      'incident.stack': 'prod',
      message: 'We are looking into it.',
      nextUpdateBy: '14:45 UTC',
    });
    expect(text).toBe(
      [
        '**SEV2 — Deploys failing** (INC-12)',
        '',
        'Status: investigating since 14:03 UTC.',
        'Affected: prod',
        '',
        'We are looking into it.',
        '',
        'Next update by 14:45 UTC.',
      ].join('\n'),
    );
  });

  it('leaves out a line whose optional values are all missing, without leaving a hole', () => {
    const text = renderTemplate('incident-opened', opened, openedVars);
    expect(text).toBe(['**SEV2 — Deploys failing** (INC-12)', '', 'Status: investigating since 14:03 UTC.'].join('\n'));
  });

  it('keeps a line that also holds a required value', () => {
    const text = renderTemplate('ticket-taken', '{{assignee.name}} took it. {{message}}', {
      'ticket.id': 7,
      'ticket.title': 'Slow API',
      'assignee.name': 'Alice',
    });
    expect(text).toBe('Alice took it.');
  });

  it('refuses a placeholder the registry does not give that template', () => {
    expect(() => renderTemplate('ticket-taken', 'Hi {{incident.title}}', { 'ticket.id': 1, 'ticket.title': 't', 'assignee.name': 'A' })).toThrow(
      /unknown placeholder \{\{incident.title\}\}/,
    );
  });

  it('refuses a misspelt placeholder before anything reaches a customer', () => {
    let error: unknown;
    try {
      renderTemplate('incident-updated', '{{incident.titel}}: {{message}}', {
        'incident.id': 'INC-1',
        'incident.title': 't',
        'incident.severity': 'SEV3',
        'incident.status': 'identified',
        message: 'm',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).problems).toEqual([expect.stringContaining('line 1: unknown placeholder {{incident.titel}}')]);
  });

  it('refuses a call without a required value, and names it so a handler can ask the person', () => {
    let error: unknown;
    try {
      // A blank value counts as none: the customer would get an empty request for information.
      renderTemplate('ticket-waiting', 'We need: {{message}}', { 'ticket.id': 3, 'ticket.title': 't', 'assignee.name': 'Bob', message: '  ' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).missing).toEqual(['message']);
  });

  it('never expands a value a second time and strips control characters from values', () => {
    const text = renderTemplate('incident-updated', '{{message}}', {
      'incident.id': 'INC-1',
      'incident.title': 't',
      'incident.severity': 'SEV3',
      'incident.status': 'monitoring',
      message: 'literal {{incident.title}}\u0007 here\r\nnext',
    });
    expect(text).toBe('literal {{incident.title}} here\nnext');
  });

  it('refuses malformed and unbalanced braces', () => {
    expect(templateProblems('ticket-resolved', '{{ ticket title }}')).toEqual([expect.stringContaining('is not a placeholder name')]);
    expect(templateProblems('ticket-resolved', 'Hello {{ticket.title}')).toEqual(['unbalanced "{{" or "}}"']);
    expect(templateProblems('ticket-resolved', 'Thanks {{customer.name}}, {{ticket.title}} is done.')).toEqual([]);
  });
});

describe('placeholdersIn', () => {
  it('reports each use with the line it is on, ignoring comments but keeping their lines', () => {
    const uses = placeholdersIn('<!--\n{{skipped}}\n-->\nHi {{customer.name}}\n{{ticket.id}} {{ bad name }}');
    expect(uses).toEqual([
      { name: 'customer.name', line: 4, valid: true },
      { name: 'ticket.id', line: 5, valid: true },
      { name: 'bad name', line: 5, valid: false },
    ]);
  });
});

describe('the registry', () => {
  it('has one template for each ticket status the router knows', () => {
    expect(Object.keys(TICKET_STATUS_TEMPLATES).sort()).toEqual([...TICKET_STATUSES].sort());
    for (const template of Object.values(TICKET_STATUS_TEMPLATES)) expect(TEMPLATE_NAMES).toContain(template);
  });

  it('never lists a placeholder twice, as required and optional', () => {
    for (const name of TEMPLATE_NAMES) {
      const all = allowedPlaceholders(name);
      expect(new Set(all).size).toBe(all.length);
    }
  });

  it('tells which required values are missing', () => {
    expect(missingValues('ticket-reopened', { 'ticket.id': 1 })).toEqual(['ticket.title']);
  });
});

describe('renderMessage', () => {
  it('loads the named template from the source and fills it', async () => {
    const source = new InMemoryTemplateSource({ 'ticket-resolved': 'Done: {{ticket.title}}' });
    await expect(renderMessage(source, 'ticket-resolved', { 'ticket.id': 1, 'ticket.title': 'Slow API', 'assignee.name': 'A' })).resolves.toBe(
      'Done: Slow API',
    );
  });

  it('names the missing file', async () => {
    await expect(renderMessage(new InMemoryTemplateSource({}), 'ticket-resolved', { 'ticket.id': 1, 'ticket.title': 't', 'assignee.name': 'A' })).rejects.toThrow(
      'no file runbooks/templates/ticket-resolved.md',
    );
  });
});
