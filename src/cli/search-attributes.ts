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

export async function registerSearchAttributes(
  client: Client,
  namespace: string,
): Promise<{ added: string[]; present: string[] }> {
  const operator = client.connection.operatorService;
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  const added: string[] = [];
  const present: string[] = [];
  const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const [name, typeName] of Object.entries(SEARCH_ATTRIBUTES)) {
    const want = TYPES[typeName];
    const have = customAttributes?.[name];
    if (have === undefined || have === null) {
      missing[name] = want;
      added.push(name);
    } else if (have !== want)
      throw new Error(
        `Search attribute ${name} is registered on namespace "${namespace}" as ${IndexedValueType[have]}, ` +
          `longhaul needs ${typeName}: remove it (temporal operator search-attribute remove --name ${name}) and run this again`,
      );
    else present.push(name);
  }
  if (added.length) await operator.addSearchAttributes({ namespace, searchAttributes: missing });
  return { added, present };
}

/** Which of longhaul's search attributes the namespace lacks (none: runs can carry them all). */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => customAttributes?.[name] === undefined);
}
