/** Process logger (pino): pretty on a terminal, JSON otherwise or when LONGHAUL_LOG_FORMAT=json. */
import pino from 'pino';

const format = process.env.LONGHAUL_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');

export const logger = pino({
  level: process.env.LONGHAUL_LOG_LEVEL ?? 'info',
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
