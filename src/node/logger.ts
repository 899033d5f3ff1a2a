/**
 * Process logger (pino): pretty on a terminal, JSON otherwise or when LONGHAUL_LOG_FORMAT=json; JSON lines into a
 * file once `logToFile` is called (the demo keeps the terminal for its own story and says where the logs are).
 */
import pino from 'pino';

const format = process.env.LONGHAUL_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');

// An unknown level would make pino throw here, at import, with a stack trace; fall back to info and let the
// configuration check (src/config.ts) refuse the value with a message naming LONGHAUL_LOG_LEVEL.
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const level = process.env.LONGHAUL_LOG_LEVEL ?? 'info';

const options: pino.LoggerOptions = {
  level: LEVELS.includes(level) ? level : 'info',
  // Secrets by name, at the top of a log line's fields and one level down (pino's `*.x` is one level down only).
  redact: {
    paths: ['password', 'client_secret', 'token', 'access_token', 'key', 'apiKey'].flatMap((k) => [k, `*.${k}`]),
    censor: '[redacted]',
  },
};

let current: pino.Logger = pino({
  ...options,
  ...(format === 'pretty'
    ? {
        transport: {
          target: 'pino-pretty',
          options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
        },
      }
    : {}),
});

/** The process logger; every call goes to where `logToFile` last pointed it (the terminal until then). */
export const logger: pino.Logger = new Proxy({} as pino.Logger, {
  get(_target, prop) {
    const value = Reflect.get(current, prop, current) as unknown;
    return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
  },
});

/** From now on, log JSON lines to `file` (appended; its folder is created) instead of the terminal. */
export function logToFile(file: string): void {
  current = pino(options, pino.destination({ dest: file, mkdir: true, append: true, sync: true }));
}
