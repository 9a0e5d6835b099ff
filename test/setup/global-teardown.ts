import * as embedded from '../../scripts/embedded-postgres';
import { TEST_CLUSTER } from './test-database';

export default function globalTeardown(): void {
  if (process.env.TEST_STOP_CLUSTER === '1') embedded.stop(TEST_CLUSTER);
}
