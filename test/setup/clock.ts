const HOUR = 3_600_000;

/**
 * Waits out the last seconds of an hour. A test that reads the clock and then asks the service,
 * which reads it again (PostgreSQL's now()), must see both in the same hour bucket; just before
 * a full hour (midnight included) they can fall either side of it.
 */
export async function clearOfHourBoundary(marginMs = 5000): Promise<void> {
  const left = HOUR - (Date.now() % HOUR);
  if (left < marginMs) {
    await new Promise((resolve) => setTimeout(resolve, left + 100));
  }
}
