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

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { app: 'cockpit' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination,
  );
}
