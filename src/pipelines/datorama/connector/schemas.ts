/**
 * zod shapes of the Datorama platform API answers (fields the contract names; unknown fields kept).
 * Timestamps are epoch ms.
 */
import { z } from 'zod';

export const jobStatusSchema = z.enum(['SUCCESS', 'FAILURE', 'IN_PROGRESS', 'PENDING']);

export const workspaceSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  createTime: z.number().optional(),
  updateTime: z.number().optional(),
});
export type DatoramaWorkspace = z.infer<typeof workspaceSchema>;

export const streamSchema = z.looseObject({
  id: z.number().int(),
  name: z.string().nullable(),
  workspaceId: z.number().int(),
  dataSourceName: z.string().nullish(),
  enabled: z.boolean().nullish(),
  lastRunStatus: z.string().nullish(),
  lastDataDate: z.string().nullish(),
  processStatsCounts: z.record(z.string(), z.number()).nullish(),
  lastRowsProcessed: z.number().nullish(),
  createTime: z.number().optional(),
  updateTime: z.number().optional(),
});
export type DatoramaStream = z.infer<typeof streamSchema>;

export const jobSchema = z.looseObject({
  id: z.number().int(),
  dataStreamId: z.number().int().optional(),
  status: z.string(),
  dataStartDate: z.string().nullish(),
  dataEndDate: z.string().nullish(),
  createTime: z.number().optional(),
  updateTime: z.number().optional(),
  startTime: z.number().nullish(),
  endTime: z.number().nullish(),
  rowsProcessed: z.number().nullish(),
  processLog: z.string().nullish(),
});
export type DatoramaJob = z.infer<typeof jobSchema>;

export const errorBodySchema = z.looseObject({ errors: z.unknown() });
