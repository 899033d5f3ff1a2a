/** docker-compose.yml cannot run here (no Docker engine): check it stays coherent with the code instead. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { codecServerOptionsFromEnv } from '../../src/codec/codec-server';
import { parseConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      environment?: Record<string, string>;
      ports?: string[];
      depends_on?: unknown;
      restart?: string;
      command?: string[];
    }
  >;
};

describe('docker-compose.yml', () => {
  it('has the production-like services', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'minio', 'worker']),
    );
    expect(compose.services.temporal.ports).toContain('7233:7233');
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it("gives the worker an environment longhaul's own configuration accepts", () => {
    const env = compose.services.worker.environment!;
    const config = parseConfig(env);
    expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(config.BUCKET).toBe('s3');
    expect(config.S3_FORCE_PATH_STYLE).toBe(true);
    // MinIO credentials match on both sides.
    expect(env.S3_ACCESS_KEY_ID).toBe(compose.services.minio.environment?.MINIO_ROOT_USER);
    expect(env.S3_SECRET_ACCESS_KEY).toBe(compose.services.minio.environment?.MINIO_ROOT_PASSWORD);
    // Payload encryption is on by default: the stack refuses to start without a key.
    expect(env.LONGHAUL_ENCRYPTION_KEY).toMatch(/^\$\{LONGHAUL_ENCRYPTION_KEY:\?/);
  });

  it('runs versioned workers, and a next version beside the worker for an upgrade, with the same environment', () => {
    const worker = compose.services.worker;
    expect(parseConfig(worker.environment!).LONGHAUL_DEPLOYMENT).toBe('longhaul');
    const next = compose.services['worker-next'] as typeof worker & { profiles?: string[] };
    expect(next.command).toEqual(['worker']);
    expect(next.profiles).toEqual(['upgrade']);
    expect(next.environment).toEqual(worker.environment);
  });

  it('runs the codec server hardened: token required, strict, UI origin only, not published on all interfaces', () => {
    const codec = compose.services['codec-server'];
    // Inside its container it listens on all interfaces (the port mapping is what exposes it)…
    expect(codec.command).toEqual(['codec-server', '--port', '8888', '--host', '0.0.0.0']);
    const env = codec.environment!;
    // …so the stack refuses to start without a token (the server itself would too, naming the variable).
    expect(env.LONGHAUL_CODEC_TOKEN).toMatch(/^\$\{LONGHAUL_CODEC_TOKEN:\?[^}]+\}$/);
    expect(() => codecServerOptionsFromEnv({ ...env, LONGHAUL_CODEC_TOKEN: '' }, '0.0.0.0')).toThrow(
      /LONGHAUL_CODEC_TOKEN/,
    );
    const opts = codecServerOptionsFromEnv({ ...env, LONGHAUL_CODEC_TOKEN: 'a-token' }, '0.0.0.0');
    expect(opts.strict).toBe(true);
    // The origin allowed is the one the Web UI is published on.
    const uiPort = compose.services['temporal-ui'].ports!.map((p) => /(\d+):8080$/.exec(p)?.[1]).find(Boolean);
    expect(opts.origin).toBe(`http://localhost:${uiPort}`);
    // The UI calls the codec endpoint from the browser: it must match the published (loopback) port.
    const published = codec.ports ?? [];
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) expect(p, `codec-server port ${p}`).toMatch(/^127\.0\.0\.1:\d+:8888$/);
    const hostPort = /^127\.0\.0\.1:(\d+):8888$/.exec(published[0])![1];
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${hostPort}`);
  });

  it('builds images from a Dockerfile whose copied paths and command exist', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    for (const m of dockerfile.matchAll(/^COPY (\S+(?: \S+)*) \S+$/gm))
      for (const src of m[1].split(' '))
        expect(fs.existsSync(path.join(ROOT, src)), `Dockerfile copies ${src}`).toBe(true);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/longhaul.js"\]/);
    expect(compose.services.worker.command).toEqual(['worker']);
  });

  it('registers the search attributes once, with the client command, before the worker starts', () => {
    const setup = compose.services['search-attributes'];
    expect(setup.command?.[0]).toBe('search-attributes');
    const client = fs.readFileSync(path.join(ROOT, 'src/client.ts'), 'utf8');
    expect(client).toContain(`.command('search-attributes')`);
    expect(parseConfig(setup.environment!).TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(compose.services.worker.depends_on).toMatchObject({
      'search-attributes': { condition: 'service_completed_successfully' },
    });
  });
});
