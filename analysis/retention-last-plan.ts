import { PathNotFoundError, type Driver } from '../storage/driver.ts';
import { paths } from '../storage/paths.ts';
import type { RetentionPlan } from './retention.ts';

/**
 * The plan the last scheduled retention run made (registry/retention-schedule.ts keeps it in
 * storage), for `berth analyze` and `/api/v1/analysis`; undefined before the first run.
 */
export async function readLastPlan(driver: Driver): Promise<RetentionPlan | undefined> {
  try {
    return JSON.parse((await driver.getContent(paths.retentionLastPlan)).toString('utf8')) as RetentionPlan;
  } catch (error) {
    if (error instanceof PathNotFoundError || error instanceof SyntaxError) return undefined;
    throw error;
  }
}
