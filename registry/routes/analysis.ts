import type { Request, Response } from 'express';
import { analyze } from '../../analysis/analysis.ts';
import type { Store } from '../../storage/store.ts';
import { sendJSON } from '../responses.ts';

/** `GET /api/v1/analysis` (a Berth extension outside /v2/): the `berth analyze --json` report; `?deep=true` opens the layers too. */
export function analysisHandler(store: Store, mirrors: readonly string[] = []) {
  return async (req: Request, res: Response): Promise<void> => {
    sendJSON(res, 200, await analyze(store, { deep: req.query.deep === 'true' || req.query.deep === '1', mirrors }));
  };
}
