/**
 * Report files of the Dailymotion sandbox over sandbox-clock time: an accepted ask generates for a
 * configurable time (IN_PROGRESS), then is FINISHED (or FAILED, for a seeded fraction) and EXPIRED
 * 48 h later. At most 2 reports per account are IN_PROGRESS at once; a third ask is refused. Every ask
 * is recorded (accepted or refused, with the reports generating at that moment) so tests can check
 * that a pipeline never had more than 2 generating.
 */
import { randomBytes } from 'node:crypto';
import { LIMITS, type AskReportInput, type PartnerReportStatus } from '../connector/enums';
import { prng } from '../../../sandbox/faults';

export interface ReportSettings {
  /** How long a report takes to generate (ms of sandbox-clock time); a function may vary it per ask. */
  generationMs: number | ((input: AskReportInput) => number);
  /** Fraction of reports that end FAILED (seeded). */
  failureRate: number;
  /** Rows per CSV file: larger reports are split into several files (several links). */
  rowsPerFile: number;
  /** FINISHED → EXPIRED after this long. */
  retentionMs: number;
  /** Reports generating at once per account. */
  maxConcurrent: number;
}

export interface ReportRecord {
  token: string;
  account: string;
  clientId: string;
  input: AskReportInput;
  askedAt: number;
  /** When generation ends (FINISHED or FAILED from then on). */
  readyAt: number;
  fails: boolean;
  /** Set by expireNow(): EXPIRED from then on. */
  expiredAt?: number;
  rows: number;
  rowsPerFile: number;
  files: number;
  /** Reports of the account generating right after this one was accepted (itself included). */
  generatingAtAsk: number;
}

export interface RefusedAsk {
  account: string;
  input: unknown;
  at: number;
  reason: string;
  generatingAtAsk: number;
}

export class ReportRegistry {
  readonly reports = new Map<string, ReportRecord>();
  readonly refused: RefusedAsk[] = [];
  private readonly random: () => number;
  private failNext = 0;

  constructor(
    readonly settings: ReportSettings,
    seed: number,
  ) {
    this.random = prng(seed * 31 + 7);
  }

  status(r: ReportRecord, now: number): PartnerReportStatus {
    if (now < r.readyAt) return 'IN_PROGRESS';
    if (r.fails) return 'FAILED';
    if ((r.expiredAt !== undefined && now >= r.expiredAt) || now >= r.readyAt + this.settings.retentionMs)
      return 'EXPIRED';
    return 'FINISHED';
  }

  generating(account: string, now: number): ReportRecord[] {
    return [...this.reports.values()].filter((r) => r.account === account && this.status(r, now) === 'IN_PROGRESS');
  }

  /** Accepts an ask, or returns the refusal message (the account already has the maximum generating). */
  ask(
    account: string,
    clientId: string,
    input: AskReportInput,
    rows: number,
    now: number,
  ): ReportRecord | { refused: string } {
    const busy = this.generating(account, now).length;
    if (busy >= this.settings.maxConcurrent) {
      const reason = `You can't generate more than ${this.settings.maxConcurrent} reports at the same time, please wait for a report to finish`;
      this.refused.push({ account, input, at: now, reason, generatingAtAsk: busy });
      return { refused: reason };
    }
    const g = this.settings.generationMs;
    const ms = Math.max(0, typeof g === 'function' ? g(input) : g);
    let fails = this.random() < this.settings.failureRate;
    if (this.failNext > 0) {
      this.failNext--;
      fails = true;
    }
    const rowsPerFile = Math.max(1, this.settings.rowsPerFile);
    const rec: ReportRecord = {
      token: randomBytes(16).toString('hex'),
      account,
      clientId,
      input,
      askedAt: now,
      readyAt: now + ms,
      fails,
      rows,
      rowsPerFile,
      files: Math.max(1, Math.ceil(rows / rowsPerFile)),
      generatingAtAsk: busy + 1,
    };
    this.reports.set(rec.token, rec);
    return rec;
  }

  /** Makes the next `n` accepted asks end FAILED. */
  failNextAsks(n: number): void {
    this.failNext += n;
  }

  /** Expires a report now (its links then answer 404). */
  expireNow(token: string, now: number): boolean {
    const r = this.reports.get(token);
    if (!r) return false;
    r.expiredAt = now;
    if (r.readyAt > now) r.readyAt = now;
    return true;
  }

  /** The most reports of one account (or of any account) ever generating at once, over [askedAt, readyAt). */
  maxConcurrentGenerating(account?: string): number {
    const byAccount = new Map<string, [number, number][]>();
    for (const r of this.reports.values()) {
      if ((account && r.account !== account) || r.readyAt <= r.askedAt) continue;
      const ev = byAccount.get(r.account) ?? [];
      ev.push([r.askedAt, 1], [r.readyAt, -1]);
      byAccount.set(r.account, ev);
    }
    let max = 0;
    for (const events of byAccount.values()) {
      events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let cur = 0;
      for (const [, d] of events) max = Math.max(max, (cur += d));
    }
    return max;
  }
}

export const DEFAULT_REPORT_SETTINGS: ReportSettings = {
  generationMs: 5_000,
  failureRate: 0,
  rowsPerFile: 250_000,
  retentionMs: LIMITS.retentionMs,
  maxConcurrent: LIMITS.maxConcurrentReports,
};
