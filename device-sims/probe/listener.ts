import type { Server, Socket } from 'node:net';

/**
 * A TCP (or HTTP) server that can be taken off the network and brought back on the same
 * port: a camera that is offline refuses connections and drops the ones it had.
 */
export class Listener {
  private readonly sockets = new Set<Socket>();
  private listening = false;
  private wanted = false;
  port = 0;
  /** TCP connections accepted since start: tells a client that reconnects from one that keeps alive. */
  accepted = 0;

  constructor(
    private readonly server: Server,
    private readonly host: string,
  ) {
    server.on('connection', (s: Socket) => {
      this.accepted++;
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async start(port: number): Promise<number> {
    this.wanted = true;
    await this.listen(port);
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    return this.port;
  }

  /** Stop answering: close the port and drop open connections. */
  async pause(): Promise<void> {
    this.wanted = false;
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listen again on the same port; retries while something else holds it. */
  async resume(): Promise<void> {
    this.wanted = true;
    for (let attempt = 0; attempt < 40 && this.wanted && !this.listening; attempt++) {
      try {
        await this.listen(this.port);
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async close(): Promise<void> {
    await this.pause();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, this.host, () => {
        this.server.off('error', onError);
        this.listening = true;
        resolve();
      });
    });
  }
}
