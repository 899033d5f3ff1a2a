/**
 * Every API sandbox, by name, with its default port (used by `longhaul dev` and the demo), from the APIs' list.
 * Each entry builds a fresh server with deterministic seeded data.
 */
import type { SandboxServer } from './server';
import { APIS } from '../pipelines/apis';

export interface SandboxFactory {
  port: number;
  /** Environment variables that point longhaul's connectors at this sandbox. */
  env: (url: string) => Record<string, string>;
  create: (opts: { seed?: number }) => SandboxServer;
  /** How `longhaul simulate` configures this API's sandbox (absent: its pipelines cannot be simulated). */
  simulation?: SimulationSpec;
}

/** One `--api key=value` a sandbox accepts in a simulation. */
export interface SimulationKey {
  describe: string;
  /** The value when the key is not given, as a person would type it. */
  default: string;
  /** Parses the text (throws a message without the key's name; the caller adds it). */
  parse: (text: string) => unknown;
}

/** A sandbox set up for one simulation: the server (its clock follows the virtual clock) and its worker env. */
export interface SimulatedApi {
  server: SandboxServer;
  /** Worker environment pointing at the server (credentials, base URL, limits the worker must know). */
  env: (url: string) => Record<string, string>;
  /** What the simulation answers differently from the real API, to say so in its output. */
  scaled: string[];
  /** API usage as the sandbox saw it, for the summary: e.g. calls by key, units by project. */
  usage: () => Promise<Record<string, unknown>>;
}

export interface SimulationSpec {
  /** The `--api` keys, with what they mean and their defaults. */
  keys: Record<string, SimulationKey>;
  /** Builds the sandbox from the parsed `--api` values (every key present). */
  create: (api: Record<string, unknown>, opts: { seed: number }) => SimulatedApi;
}

/** Every API's sandbox (src/pipelines/apis.ts), by the API's name. */
export const SANDBOXES: Record<string, SandboxFactory> = Object.fromEntries(
  APIS.flatMap((api) => (api.sandbox ? [[api.name, api.sandbox]] : [])),
);

export interface RunningSandboxes {
  servers: Record<string, SandboxServer>;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the named sandboxes (all by default) on their default ports (or random ones with `randomPorts`). */
export async function startSandboxes(
  names: string[] = Object.keys(SANDBOXES),
  opts: { seed?: number; randomPorts?: boolean } = {},
): Promise<RunningSandboxes> {
  const servers: Record<string, SandboxServer> = {};
  const env: Record<string, string> = {};
  for (const name of names) {
    const f = SANDBOXES[name];
    if (!f) throw new Error(`Unknown sandbox "${name}" (known: ${Object.keys(SANDBOXES).join(', ')})`);
    const s = f.create({ seed: opts.seed });
    const url = await s.start(opts.randomPorts ? 0 : f.port);
    servers[name] = s;
    Object.assign(env, f.env(url));
  }
  return { servers, env, stop: async () => void (await Promise.all(Object.values(servers).map((s) => s.stop()))) };
}
