/**
 * `longhaul search-attributes`: registers longhaul's search attributes (src/shared/search-attributes.ts) on
 * the server's namespace — what `longhaul dev` does with `--search-attribute` flags, for any other server
 * (docker-compose runs it once before the worker starts). Idempotent: registered ones are left as they are;
 * one registered with another type is an error (runs could not be filtered on it).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';

const { IndexedValueType } = temporal.api.enums.v1;
const TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/**
 * Longhaul's attributes as the namespace has them: missing, present with the right type, or registered with
 * another type (`has`).
 */
async function survey(client: Client, namespace: string) {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing: { name: string; type: string }[] = [];
  const present: string[] = [];
  const wrong: { name: string; type: string; has: temporal.api.enums.v1.IndexedValueType }[] = [];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    const has = customAttributes?.[name];
    if (has === undefined || has === null) missing.push({ name, type });
    else if (has !== TYPES[type]) wrong.push({ name, type, has });
    else present.push(name);
  }
  return { missing, present, wrong };
}

export async function registerSearchAttributes(
  client: Client,
  namespace: string,
): Promise<{ added: string[]; present: string[] }> {
  const { missing, present, wrong } = await survey(client, namespace);
  const [w] = wrong; // the first is enough to say what to do
  if (w)
    throw new Error(
      `Search attribute ${w.name} is registered on namespace "${namespace}" as ${IndexedValueType[w.has]}, ` +
        `longhaul needs ${w.type}: remove it (temporal operator search-attribute remove --name ${w.name}) and run this again`,
    );
  if (missing.length)
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((m) => [m.name, TYPES[m.type]])),
    });
  return { added: missing.map((m) => m.name), present };
}

/** Which of longhaul's search attributes the namespace lacks (none: runs can carry them all). */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  return (await survey(client, namespace)).missing.map((m) => m.name);
}
