import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';

/**
 * Paths pino masks wherever they appear in a log record. Tokens and secrets travel in config objects, HTTP
 * headers and vendor errors; the list is broad on purpose, since one leaked token is one too many.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  '*.*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'privateKey',
  '*.privateKey',
  'passphrase',
  '*.passphrase',
  'databaseUrl',
  '*.databaseUrl',
  // Alertmanager's webhook tokens (per stack) and the calendar secret, as they sit in the config.
  'tokens',
  '*.tokens',
  '*.*.tokens',
  'calendarSecret',
  '*.calendarSecret',
  // The Discourse webhook's secret, inside a logged config (`secret` and `*.secret` cover it nearer the top).
  '*.discourseWebhook.secret',
  // The Discourse client's config, and the header it sends the key in.
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'headers["api-key"]',
  'headers["Api-Key"]',
  '*.headers["api-key"]',
  '*.headers["Api-Key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-slack-signature"]',
  'headers["x-hub-signature-256"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'req.headers["x-hub-signature-256"]',
  'err.config.headers.Authorization',
  'err.request.headers.authorization',
];

export type Logger = PinoLogger;

/**
 * Token-shaped strings inside free text (an error message that quotes a header, a URL with a password).
 * Path redaction cannot see into strings, so error messages and stacks are scrubbed as well.
 */
const SECRET_PATTERNS: RegExp[] = [
  /\bxox[abposre]-[A-Za-z0-9-]+/g, // Slack bot/user/app tokens
  /\bxapp-[A-Za-z0-9-]+/g,
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /(?<=:\/\/[^:/@\s]+:)[^@\s]+(?=@)/g, // the password in scheme://user:password@host
  /(?<=\b[Bb]earer\s+)[A-Za-z0-9._~+/=-]+/g,
];

export function scrubSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((t, re) => t.replace(re, '[redacted]'), text);
}

function errSerializer(err: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack']) {
    if (typeof serialized[key] === 'string') serialized[key] = scrubSecrets(serialized[key] as string);
  }
  return serialized;
}

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { app: 'cockpit' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: errSerializer },
    },
    options.destination,
  );
}
