import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../errors.ts';
import type { TlsClientFiles, TlsServerFiles } from './schema.ts';

export interface LoadedCertificate {
  options: SecureContextOptions;
  /** What the log says of it: never the key, only who the certificate names and until when. */
  summary: { subject: string; serial: string; validTo: string };
}

function read(what: string, baseDir: string, file: string): Buffer {
  const abs = path.resolve(baseDir, file);
  try {
    return readFileSync(abs);
  } catch (err) {
    throw new GatehouseError('GH_TLS_FILE', { what, file: abs, detail: (err as Error).message });
  }
}

/**
 * Read a listener's certificate, key and CA, and check they make a usable context
 * before anything is swapped: a renewal that went wrong keeps the old certificate.
 */
export function loadServerCertificate(
  what: string,
  files: TlsServerFiles,
  baseDir: string,
): LoadedCertificate {
  const cert = read(what, baseDir, files.cert);
  const options: SecureContextOptions = {
    cert,
    key: read(what, baseDir, files.key),
    ...(files.ca ? { ca: read(what, baseDir, files.ca) } : {}),
  };
  try {
    createSecureContext(options);
    const x509 = new X509Certificate(cert);
    return {
      options,
      summary: {
        subject: x509.subject.replace(/\n/g, ', '),
        serial: x509.serialNumber,
        validTo: x509.validTo,
      },
    };
  } catch (err) {
    throw new GatehouseError('GH_TLS_FILE', {
      what,
      file: path.resolve(baseDir, files.cert),
      detail: `${(err as Error).message} (is it PEM, and does the key belong to the certificate?)`,
    });
  }
}

/** The bridge's TLS client options, as mqtt.js passes them to tls.connect. */
export function loadClientTls(
  what: string,
  files: TlsClientFiles | undefined,
  baseDir: string,
): { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string } {
  if (!files) return {};
  if (Boolean(files.cert) !== Boolean(files.key)) {
    throw new GatehouseError('GH_TLS_FILE', {
      what,
      file: files.cert ?? files.key ?? '',
      detail: 'a client certificate needs both cert and key',
    });
  }
  return {
    ...(files.ca ? { ca: read(what, baseDir, files.ca) } : {}),
    ...(files.cert ? { cert: read(what, baseDir, files.cert) } : {}),
    ...(files.key ? { key: read(what, baseDir, files.key) } : {}),
    ...(files.servername ? { servername: files.servername } : {}),
  };
}
