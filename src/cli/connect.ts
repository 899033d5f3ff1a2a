/** Client connection and Web UI links for the CLI. */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { dataConverterFromEnv } from '../codec/aes-codec';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: '5s' }).catch(
    (err: Error) => {
      throw new Error(
        `Cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (${err.message}). Start it with \`longhaul dev\` or set TEMPORAL_ADDRESS.`,
      );
    },
  );
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFromEnv() });
}

export function uiLink(config: Config, workflowId: string, runId?: string): string {
  const base = `${config.TEMPORAL_UI_URL.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
