/**
 * What a YouTube enrichment needs, computed without calling anything: calls (50 IDs each), units and days
 * of quota for a number of projects; and a rough ETA that counts the days spent waiting for resets.
 * Pure: used by the workflow (dry run, progress), the docs and the benchmark.
 */
import { MAX_IDS_PER_CALL } from './connector/enums';

export interface PlanInput {
  distinctIds: number;
  projects: number;
  unitsPerDay: number;
  costPerCall: number;
}

export interface EnrichPlan {
  distinctIds: number;
  calls: number;
  units: number;
  projects: number;
  unitsPerDayAllProjects: number;
  callsPerDay: number;
  /** Quota days needed (1 = it fits in one day's quota). */
  days: number;
}

export function planEnrichment(p: PlanInput): EnrichPlan {
  const calls = Math.ceil(p.distinctIds / MAX_IDS_PER_CALL);
  const units = calls * p.costPerCall;
  const callsPerDay = p.projects * Math.floor(p.unitsPerDay / p.costPerCall);
  return {
    distinctIds: p.distinctIds,
    calls,
    units,
    projects: p.projects,
    unitsPerDayAllProjects: p.projects * p.unitsPerDay,
    callsPerDay,
    days: callsPerDay > 0 ? Math.max(1, Math.ceil(calls / callsPerDay)) : Infinity,
  };
}

/**
 * Time left: the remaining calls at the measured call rate, plus a full day for every quota reset still
 * to wait for (quota-bound runs spend most of their time waiting).
 */
export function estimateRemainingMs(remainingCalls: number, callsPerDay: number, callsPerMs: number): number {
  if (remainingCalls <= 0) return 0;
  const resets = callsPerDay > 0 ? Math.floor(remainingCalls / callsPerDay) : 0;
  const working = callsPerMs > 0 ? remainingCalls / callsPerMs : 0;
  return resets * 86_400_000 + working;
}
