import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTlsServer, TLSSocket, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Aedes, Client } from 'aedes';
import type { Logger } from 'pino';
import { GatehouseError } from '../errors.ts';
import { loadServerCertificate } from '../tls/files.ts';
import type { BrokerTls } from './config.ts';

/**
 * MQTT over TLS (and optionally over secure WebSocket on its own port). The certificate
 * is swapped in place on reload: connected clients keep their session, new handshakes
 * get the renewed certificate.
 */
export class TlsListeners {
  private tls?: TlsServer;
  private wss?: HttpsServer;

  constructor(
    private readonly cfg: BrokerTls,
    private readonly baseDir: string,
    private readonly log: Logger,
  ) {
    if (cfg.clientCerts !== 'off' && !cfg.ca) {
      throw new GatehouseError('GH_TLS_FILE', {
        what: 'broker.tls',
        file: '(none)',
        detail: `clientCerts: ${cfg.clientCerts} needs ca: the CA that signs the devices' certificates`,
      });
    }
  }

  async listen(
    aedes: Aedes,
    host: string,
    attachWebSocket: (server: HttpsServer) => void,
  ): Promise<{ tlsPort: number; wssPort?: number }> {
    const { options, summary } = loadServerCertificate('broker.tls', this.cfg, this.baseDir);
    const clientCerts = {
      requestCert: this.cfg.clientCerts !== 'off',
      rejectUnauthorized: this.cfg.clientCerts === 'required',
    };
    const bind = this.cfg.host ?? host;
    this.tls = createTlsServer({ ...options, ...clientCerts }, (socket) => aedes.handle(socket));
    // A failed handshake (wrong CA, no certificate when one is required) is the client's problem, not ours.
    this.tls.on('tlsClientError', (err, socket) => {
      this.log.warn({ peer: socket.remoteAddress, err: err.message }, 'mqtts handshake refused');
    });
    const tlsPort = await listenOn(this.tls, this.cfg.port, bind);
    this.log.info({ host: bind, port: tlsPort, certificate: summary }, 'mqtt over tls listening');
    if (this.cfg.wsPort === undefined) return { tlsPort };
    this.wss = createHttpsServer({ ...options, ...clientCerts }, (_req, res) =>
      res.writeHead(426).end('MQTT over WebSocket only\n'),
    );
    attachWebSocket(this.wss);
    const wssPort = await listenOn(this.wss, this.cfg.wsPort, bind);
    this.log.info({ host: bind, port: wssPort }, 'mqtt over secure websocket listening');
    return { tlsPort, wssPort };
  }

  /** Read the files again and use them for every new connection. Throws (keeping the old ones) when they do not fit. */
  reload(): { subject: string; serial: string; validTo: string } {
    const { options, summary } = loadServerCertificate('broker.tls', this.cfg, this.baseDir);
    this.tls?.setSecureContext(options);
    this.wss?.setSecureContext(options);
    return summary;
  }

  get port(): number | undefined {
    return (this.tls?.address() as AddressInfo | null)?.port;
  }

  async close(): Promise<void> {
    await Promise.all([this.tls, this.wss].map(closeServer));
  }
}

/** CN of the client certificate the handshake verified against our CA, if any. */
export function verifiedCertName(client: Client): string | undefined {
  const socket: unknown = client.req?.socket ?? client.conn;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : undefined;
}

function listenOn(server: TlsServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: TlsServer | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
