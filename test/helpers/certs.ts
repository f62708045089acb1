import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Pair {
  cert: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  /** The CA that signs the server and the good client. */
  ca: string;
  /** Valid for 127.0.0.1 and localhost (and any extra names asked for). */
  server: Pair;
  /** Signed by the CA, CN as asked (an MQTT user name). */
  client: Pair;
  /** Another CA, trusted by nobody here. */
  wrongCa: string;
  /** A client certificate from the wrong CA, with the same CN. */
  wrongClient: Pair;
  /** Issue a new server certificate (new serial, same names) over the same files; returns its serial. */
  renewServer(): string;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

function issue(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  cn: string,
  ext: string,
): Pair & { serial: string } {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const extFile = path.join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  const serial = randomBytes(8).toString('hex').replace(/^0/, '1').toUpperCase();
  openssl(dir, ['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${serial}`,
    '-days',
    '2',
    '-out',
    cert,
    '-extfile',
    extFile,
  ]);
  return { cert, key, serial };
}

/** A CA, a server certificate, a client certificate and a wrong CA, made with openssl now. */
export function makeCerts(
  opts: {
    clientCn?: string;
    serverNames?: string[];
    /** only these names: no localhost, no 127.0.0.1 */ onlyNames?: boolean;
  } = {},
): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-certs-'));
  const ca = makeCa(dir, 'ca');
  const wrong = makeCa(dir, 'wrong-ca');
  const names = [
    ...(opts.onlyNames ? [] : ['DNS:localhost', 'IP:127.0.0.1']),
    ...(opts.serverNames ?? []).map((n) => `DNS:${n}`),
  ];
  const serverExt = `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth\n`;
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  const cn = opts.clientCn ?? 'test-client';
  const server = issue(dir, ca, 'server', 'localhost', serverExt);
  return {
    dir,
    ca: ca.cert,
    server,
    client: issue(dir, ca, 'client', cn, clientExt),
    wrongCa: wrong.cert,
    wrongClient: issue(dir, wrong, 'wrong-client', cn, clientExt),
    renewServer: () => issue(dir, ca, 'server', 'localhost', serverExt).serial,
  };
}

/** The serial number of the certificate a TLS server presents now, as hex (openssl s_client). */
export function servedSerial(port: number, ca: string): string {
  const out = execFileSync(
    'sh',
    [
      '-c',
      `openssl s_client -connect 127.0.0.1:${port} -CAfile ${ca} </dev/null 2>/dev/null | openssl x509 -noout -serial`,
    ],
    { encoding: 'utf8' },
  );
  return out.trim().replace(/^serial=/, '');
}
