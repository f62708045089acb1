import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Camera } from './camera.ts';
import { FAULTS } from './state.ts';

const FaultBody = Type.Object(
  {
    fault: Type.Union(FAULTS.map((f) => Type.Literal(f))),
    active: Type.Boolean(),
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    skewS: Type.Optional(Type.Number({ minimum: -1e9, maximum: 1e9 })),
  },
  { additionalProperties: false },
);
const ClockBody = Type.Object(
  { mode: Type.Union([Type.Literal('day'), Type.Literal('night'), Type.Literal('auto')]) },
  { additionalProperties: false },
);
const EventBody = Type.Object(
  { type: Type.Union([Type.Literal('motion'), Type.Literal('tamper')]), active: Type.Boolean() },
  { additionalProperties: false },
);
const RebootBody = Type.Object(
  { downMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })) },
  { additionalProperties: false },
);

/** What GET /state reports for one camera. */
export function cameraState(cam: Camera, index: number) {
  const s = cam.state;
  const urls = cam.urls;
  return {
    cam: index,
    model: s.config.model,
    manufacturer: s.config.manufacturer,
    serial: s.config.serial,
    online: s.online,
    rebooting: s.rebooting,
    uptimeS: s.uptimeS,
    bootCount: s.bootCount,
    clock: {
      mode: s.clockMode,
      night: s.isNight(),
      skewS: s.skewS,
      cameraTime: new Date(s.nowMs()).toISOString(),
    },
    irCutFilter: s.irCut,
    nightMode: s.filterRemoved(),
    imageTooDark: s.imageTooDark(),
    faults: { ...s.faults },
    delayMs: s.delayMs,
    motion: s.motion,
    tamper: s.tamper,
    relay: { ...s.relay },
    subscriptions: cam.subscriptions.count,
    snapshotsServed: s.snapshotsServed,
    connectionsAccepted: cam.connectionsAccepted,
    soapRequests: { ...s.soapRequests },
    urls: {
      device: urls.device,
      rtsp: urls.rtsp('Profile_1'),
      rtspSub: urls.rtsp('Profile_2'),
      snapshot: urls.snapshot('Profile_1'),
      discoveryPort: cam.ports.discovery,
    },
  };
}

/**
 * Test/bench control interface (JSON over HTTP). With several cameras in one process a
 * request picks one with `/cam/N/...` or `?cam=N` (0-based); without, camera 0.
 */
export function createControlServer(cams: Camera[]): Server {
  return createServer((req, res) => {
    route(cams, req, res).catch((err: unknown) => reply(res, 500, { error: (err as Error).message }));
  });
}

async function route(cams: Camera[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://control');
  let path = url.pathname;
  let index = Number(url.searchParams.get('cam') ?? 0);
  const m = /^\/cam\/(\d+)(\/.*)?$/.exec(path);
  if (m) {
    index = Number(m[1]);
    path = m[2] ?? '/state';
    // `?cam=` added to a camera's own control URL (`…/cam/0`) would otherwise act on that
    // camera, silently, and leave the one asked for as it was.
    const query = url.searchParams.get('cam');
    if (query !== null && Number(query) !== index)
      return reply(res, 400, { error: `two cameras named: /cam/${m[1]} and ?cam=${query}` });
  }
  if (req.method === 'GET' && path === '/cams')
    return reply(
      res,
      200,
      cams.map((c, i) => cameraState(c, i)),
    );
  const cam = Number.isInteger(index) ? cams[index] : undefined;
  if (!cam)
    return reply(res, 404, {
      error: `no camera ${url.searchParams.get('cam') ?? m?.[1]} (have 0..${cams.length - 1})`,
    });

  const key = `${req.method} ${path}`;
  if (key === 'GET /state') return reply(res, 200, cameraState(cam, index));
  const body = req.method === 'POST' ? await readJson(req) : undefined;
  switch (key) {
    case 'POST /fault': {
      const b = check(FaultBody, body, res);
      if (!b) return;
      cam.state.setFault(b.fault, b.active, { delayMs: b.delayMs, skewS: b.skewS });
      if (b.fault === 'event-backlog' && !b.active) cam.subscriptions.dropBacklog();
      else if (b.active && (b.fault === 'event-backlog' || b.fault === 'pull-immediate'))
        cam.subscriptions.wakeAll(b.fault === 'event-backlog');
      await cam.syncListeners();
      return reply(res, 200, cameraState(cam, index));
    }
    case 'POST /clock': {
      const b = check(ClockBody, body, res);
      if (!b) return;
      cam.state.setClock(b.mode);
      return reply(res, 200, cameraState(cam, index));
    }
    case 'POST /event': {
      const b = check(EventBody, body, res);
      if (!b) return;
      if (b.type === 'motion') cam.state.setMotion(b.active);
      else cam.state.setTamper(b.active);
      return reply(res, 200, cameraState(cam, index));
    }
    case 'POST /reboot': {
      const b = check(RebootBody, body ?? {}, res);
      if (!b) return;
      cam.reboot(b.downMs);
      await cam.syncListeners();
      return reply(res, 202, cameraState(cam, index));
    }
    default:
      return reply(res, 404, {
        error: `unknown control request ${key}`,
        routes: ['GET /state', 'GET /cams', 'POST /fault', 'POST /clock', 'POST /event', 'POST /reboot'],
      });
  }
}

function check<T extends typeof FaultBody | typeof ClockBody | typeof EventBody | typeof RebootBody>(
  schema: T,
  body: unknown,
  res: ServerResponse,
): Static<T> | undefined {
  if (Value.Check(schema, body)) return body;
  const errors = [...Value.Errors(schema, body)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
  reply(res, 400, { error: 'invalid body', details: errors, schema });
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) {
    raw += String(chunk);
    if (raw.length > 16_384) throw new Error('body too large');
  }
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return { invalidJson: raw.slice(0, 100) };
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
