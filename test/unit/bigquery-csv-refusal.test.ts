/**
 * Which failures of BigQuery's CSV load send a file to the JavaScript reader (src/sinks/bigquery-csv.ts,
 * `csvReaderRefusal`): only the reader's verdict on the file. A quota, rate, access, server or network error is
 * an error of the load — reading the file another way would hide it (and load on a warehouse that refused).
 * The shapes are the job errors BigQuery documents (cloud.google.com/bigquery/docs/error-messages) and the
 * emulator's.
 */
import { describe, expect, it } from 'vitest';
import { csvReaderRefusal } from '../../src/sinks/bigquery-csv';

const jobError = (...errors: { reason?: string; message?: string }[]) =>
  Object.assign(new Error(errors[0]?.message ?? 'job failed'), { errors });

describe('csvReaderRefusal', () => {
  it("is the reader's message when BigQuery's CSV reader refused the file", () => {
    const msg =
      'Error while reading data, error message: CSV table references column position 4, but line 3 contains only 2 columns.';
    expect(csvReaderRefusal(jobError({ reason: 'invalid', message: msg }))).toBe(msg);
    // Among other entries of the same job.
    expect(
      csvReaderRefusal(jobError({ reason: 'stopped', message: 'stopped' }, { reason: 'invalid', message: msg })),
    ).toBe(msg);
    // The emulator's wording (and reason).
    const emulator = 'failed to read csv: record on line 2: wrong number of fields';
    expect(csvReaderRefusal(jobError({ reason: 'jobInternalError', message: emulator }))).toBe(emulator);
    expect(csvReaderRefusal(jobError({ message: emulator }))).toBe(emulator);
  });

  it('is undefined for errors of the load itself: quota, rate, access, server, network', () => {
    for (const reason of [
      'quotaExceeded',
      'rateLimitExceeded',
      'accessDenied',
      'backendError',
      'internalError',
      'notFound',
    ]) {
      expect(csvReaderRefusal(jobError({ reason, message: `${reason}: try later` })), reason).toBeUndefined();
      // Beside the reader's own verdict in the same job: still the load's failure (the client keeps no
      // `errorResult` to say which came first).
      const reader = { reason: 'invalid', message: 'Error while reading data, error message: too many errors' };
      expect(csvReaderRefusal(jobError(reader, { reason, message: `${reason}: try later` })), reason).toBeUndefined();
      expect(csvReaderRefusal(jobError({ reason, message: `${reason}: try later` }, reader)), reason).toBeUndefined();
    }
    expect(csvReaderRefusal(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(csvReaderRefusal(new Error('failed to read csv'))).toBeUndefined(); // words in a message alone are not a job error
    expect(csvReaderRefusal(undefined)).toBeUndefined();
    expect(csvReaderRefusal({ errors: 'not a list' })).toBeUndefined();
  });
});
