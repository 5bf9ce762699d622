import type { Request, Response } from 'express';
import { sendJSON } from '../responses.ts';
import type { Readiness } from './readiness.ts';

/** `/livez`: the process answers requests; nothing else is checked, so a slow bucket never gets it restarted. */
export function livezHandler(_req: Request, res: Response): void {
  sendJSON(res, 200, { status: 'ok' });
}

/** `/readyz`: 200 when storage answers and the server is not draining, else 503 with the reason. */
export function readyzHandler(readiness: Readiness) {
  return async (_req: Request, res: Response): Promise<void> => {
    const state = await readiness.state();
    if (state.ready) sendJSON(res, 200, { status: 'ok' });
    else sendJSON(res, 503, { status: 'unavailable', reason: state.reason }, { 'Cache-Control': 'no-store' });
  };
}
