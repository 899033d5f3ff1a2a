/**
 * The worker process's Temporal runtime: SDK and workflow/activity logs go through longhaul's logger
 * (pino: JSON in production, pretty on a terminal, with workflow/activity ids as fields), and worker
 * metrics are exposed for Prometheus when LONGHAUL_METRICS_ADDRESS is set (e.g. 0.0.0.0:9464 → /metrics).
 * Installed once, before the first worker or connection.
 */
import { Runtime, type Logger, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { logger } from './logger';

class PinoLogger implements Logger {
  log(level: LogLevel, message: string, meta?: LogMetadata) {
    const l = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    logger[l](meta ?? {}, message);
  }
  trace(m: string, meta?: LogMetadata) {
    this.log('TRACE', m, meta);
  }
  debug(m: string, meta?: LogMetadata) {
    this.log('DEBUG', m, meta);
  }
  info(m: string, meta?: LogMetadata) {
    this.log('INFO', m, meta);
  }
  warn(m: string, meta?: LogMetadata) {
    this.log('WARN', m, meta);
  }
  error(m: string, meta?: LogMetadata) {
    this.log('ERROR', m, meta);
  }
}

let installed = false;

/**
 * `forwardCoreLogs`: the SDK core's own messages (Rust, printed to stderr by default) go through the logger too
 * — `longhaul simulate`, whose terminal shows its progress and report while the logs go to a file.
 */
export function installRuntime(env: NodeJS.ProcessEnv = process.env, opts: { forwardCoreLogs?: boolean } = {}): void {
  if (installed) return;
  installed = true;
  const bindAddress = env.LONGHAUL_METRICS_ADDRESS;
  Runtime.install({
    logger: new PinoLogger(),
    telemetryOptions: {
      ...(bindAddress ? { metrics: { prometheus: { bindAddress } } } : {}),
      ...(opts.forwardCoreLogs ? { logging: { forward: {}, filter: 'WARN' } } : {}),
    },
  });
}
