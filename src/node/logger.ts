/** Process logger (pino): pretty on a terminal, JSON otherwise or when LONGHAUL_LOG_FORMAT=json. */
import pino from 'pino';

const format = process.env.LONGHAUL_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');

// An unknown level would make pino throw here, at import, with a stack trace; fall back to info and let the
// configuration check (src/config.ts) refuse the value with a message naming LONGHAUL_LOG_LEVEL.
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const level = process.env.LONGHAUL_LOG_LEVEL ?? 'info';

export const logger = pino({
  level: LEVELS.includes(level) ? level : 'info',
  redact: {
    paths: ['*.password', '*.client_secret', '*.token', '*.access_token', '*.key', '*.apiKey'],
    censor: '[redacted]',
  },
  ...(format === 'pretty'
    ? {
        transport: {
          target: 'pino-pretty',
          options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
        },
      }
    : {}),
});
