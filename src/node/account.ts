/**
 * The API account a pipeline works for, as the client tags runs with it and as the shared limits count it:
 * the pipeline definition's rule (PipelineDef.account) — a name, or a fingerprint of a secret, never the
 * secret. One rule for both, so `longhaul list --account` finds the runs a limit counted together.
 */
import type { Config } from '../config';
import type { PipelineDef } from '../pipelines/types';
import { fingerprint } from './fingerprint';

/** The account's name, or a fingerprint of its secret; undefined when the configuration names none. */
export function accountOf(pipeline: Pick<PipelineDef, 'account'>, config: Config): string | undefined {
  const account = pipeline.account?.(config);
  if (!account) return undefined;
  return 'name' in account ? account.name : fingerprint(account.secret);
}
