/**
 * A self-signed certificate for sandboxes served over TLS (127.0.0.1 and localhost), made once per process.
 * Test and benchmark use only: clients trust it by passing `cert` as their CA, never by turning verification off.
 */
export interface SandboxCertificate {
  key: string;
  cert: string;
}

let made: Promise<SandboxCertificate> | undefined;

export function sandboxCertificate(): Promise<SandboxCertificate> {
  made ??= (async () => {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 7 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    return { key: pems.private, cert: pems.cert };
  })();
  return made;
}
