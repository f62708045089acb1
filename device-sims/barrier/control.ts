import http from 'node:http';
import { FAULTS, type FaultName } from './barrier.ts';
import type { SimServer } from './server.ts';

/**
 * The simulator's small HTTP/JSON control interface, for tests and demos:
 *   GET  /state                       every unit's barrier state, faults, queue, recent commands
 *   GET  /stats                       requests served and the rate since start
 *   POST /fault   {unit, fault, active, delayMs?}
 *   POST /traffic {unit?, arrive: 'in'|'out', tailgate?} | {unit?, mode: 'random'|'scripted'|'off', ratePerMin?, autoOpen?}
 *   POST /safety  {unit?, blind?, impactAngleDeg?}   blind: a controller without its own safety
 *   GET  /closes                      every close each unit received, judged by the master's reads before it
 * `unit` omitted means every unit.
 */
export async function startControl(
  server: SimServer,
  host: string,
  port: number,
): Promise<{ address: string; close(): Promise<void> }> {
  const started = Date.now();
  const units = (u: unknown) => {
    if (u === undefined) return [...server.units.values()];
    const one = server.units.get(Number(u));
    if (!one) throw new HttpError(404, `no unit ${String(u)}`);
    return [one];
  };
  const routes: Record<string, (body: Record<string, unknown>) => unknown> = {
    'GET /state': () => ({
      units: Object.fromEntries(
        [...server.units].map(([id, u]) => [
          id,
          { profile: u.profile.name, ...u.sim.snapshot(), commands: u.log.slice(-10), counts: u.counts },
        ]),
      ),
    }),
    'GET /closes': () => ({
      units: Object.fromEntries([...server.units].map(([id, u]) => [id, u.closes])),
    }),
    'POST /safety': (b) => {
      if (b.blind !== undefined && typeof b.blind !== 'boolean')
        throw new HttpError(400, 'blind is true or false');
      const angle = b.impactAngleDeg === undefined ? undefined : Number(b.impactAngleDeg);
      if (angle !== undefined && !(angle >= 0 && angle <= 90))
        throw new HttpError(400, 'impactAngleDeg is 0..90');
      for (const u of units(b.unit)) {
        if (typeof b.blind === 'boolean') u.sim.opts.blind = b.blind;
        if (angle !== undefined) u.sim.opts.impactAngleDeg = angle;
      }
      return { ok: true };
    },
    'GET /stats': () => {
      const s = (Date.now() - started) / 1000;
      return { served: server.served, seconds: s, perSecond: server.served / s };
    },
    'POST /fault': (b) => {
      if (!FAULTS.includes(b.fault as FaultName))
        throw new HttpError(400, `fault must be one of ${FAULTS.join(', ')}`);
      const delayMs = b.delayMs === undefined ? undefined : Number(b.delayMs);
      for (const u of units(b.unit)) u.sim.setFault(b.fault as FaultName, b.active !== false, delayMs);
      return { ok: true };
    },
    'POST /traffic': (b) => {
      for (const u of units(b.unit)) {
        if (b.arrive === 'in' || b.arrive === 'out') u.sim.arrive(b.arrive, b.tailgate === true);
        else if (b.mode === 'random' || b.mode === 'scripted' || b.mode === 'off') {
          if (typeof b.autoOpen === 'boolean') u.sim.opts.autoOpen = b.autoOpen;
          u.sim.setTraffic(b.mode, b.ratePerMin === undefined ? undefined : Number(b.ratePerMin));
        } else throw new HttpError(400, 'give arrive: in|out or mode: random|scripted|off');
      }
      return { ok: true };
    },
  };
  const srv = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const send = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      try {
        const route = routes[`${req.method} ${(req.url ?? '/').split('?')[0]}`];
        if (!route) throw new HttpError(404, 'no such endpoint');
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        send(200, route(body));
      } catch (err) {
        send(err instanceof HttpError ? err.code : 400, { error: (err as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  const addr = srv.address() as { port: number };
  return {
    address: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
