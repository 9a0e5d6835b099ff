import { createTestDatabase } from './test-database';

export default async function globalSetup(): Promise<void> {
  const { url, startedHere } = await createTestDatabase();
  process.env.TEST_DATABASE_URL = url;
  process.env.TEST_STOP_CLUSTER = startedHere ? '1' : '';
}
