import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Aedes } from 'aedes';

const MAX_FRAME_BYTES = 256 * 1024;

/**
 * MQTT over WebSocket on an existing HTTP server (the API's), at `path`: the status
 * page subscribes from the browser through it. Other upgrade paths are left alone so
 * another WebSocket handler can share the server.
 */
export function attachMqttWebSocket(aedes: Aedes, server: Server, path = '/mqtt'): () => Promise<void> {
  const wss = new WebSocketServer({
    noServer: true,
    // ws accepts 100 MiB frames by default; no MQTT message of a village comes near this.
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => pickMqttProtocol(protocols),
  });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      aedes.handle(stream, req);
    });
  };
  server.on('upgrade', onUpgrade);
  return async () => {
    server.off('upgrade', onUpgrade);
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

function pickMqttProtocol(protocols: Set<string>): string | false {
  if (protocols.has('mqtt')) return 'mqtt';
  if (protocols.has('mqttv3.1')) return 'mqttv3.1';
  return false;
}
