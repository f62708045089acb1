/**
 * Shared bits of the close-supervision tests and benchmark (not a test file itself): a
 * gateway in this process on a village config, the simulator's view of each close it
 * received, the gateway's audit of supervised closes, and percentiles.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Gateway } from '../../gateway/app.ts';
import { parseVillageConfig } from '../../gateway/config/sections.ts';
import { createLogger } from '../../gateway/logger.ts';
import type { CloseRecord } from '../../device-sims/barrier/image.ts';
import { simControl } from './gateway.ts';

export async function gatewayInProcess(yaml: string): Promise<{ gw: Gateway; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gh-sup-'));
  const { config } = parseVillageConfig(yaml, path.join(dataDir, 'village.yaml'));
  const gw = await Gateway.start({
    config,
    log: createLogger({ level: 'silent' }),
    tokens: [],
    apiPort: 0,
    apiHost: '127.0.0.1',
    mqttPort: 0,
    dataDir,
  });
  return { gw, dataDir };
}

export interface AuditLine {
  id: string;
  requestId: string;
  device: string;
  action: string;
  state: string;
  failure?: string;
  detail?: string;
  data?: Record<string, string | number | boolean>;
}

export function auditLines(dataDir: string): AuditLine[] {
  return readFileSync(path.join(dataDir, 'audit', 'commands.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditLine);
}

/** Every close each simulated unit received, oldest first. */
export async function simCloses(control: string): Promise<Map<string, CloseRecord[]>> {
  const body = (await simControl(control, '/closes')) as { units: Record<string, CloseRecord[]> };
  return new Map(Object.entries(body.units));
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
