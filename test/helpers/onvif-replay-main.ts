import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import jpeg from 'jpeg-js';
import { startReplay, type ReplayCamera } from './onvif-replay.ts';

/**
 * A replay camera as its own process, so a test measuring the driver's CPU measures the
 * driver only: `onvif-replay-main.ts CAMERA USER PASSWORD`, with a generated grey JPEG
 * behind the advertised snapshot URI and the RTSP responder on. Prints one line
 * `replay listening url=… control=…`; GET control → {requests, connections}.
 */
const [camera, username = 'admin', password = 'admin'] = process.argv.slice(2);
const grey = jpeg.encode({ data: Buffer.alloc(64 * 48 * 4, 110), width: 64, height: 48 }, 80).data;
const replay = await startReplay({
  camera: camera as ReplayCamera,
  snapshot: { jpeg: grey, username, password },
  rtsp: true,
});
const control = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ requests: replay.requests.length, connections: replay.connections() }));
});
await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
const stop = () => void replay.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
console.log(
  `replay listening url=${replay.url} control=http://127.0.0.1:${(control.address() as AddressInfo).port}`,
);
