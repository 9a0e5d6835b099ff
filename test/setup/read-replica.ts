import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { get } from './http';

/**
 * Each URL, with each set of headers, answered 200 by `server` (X-Read-From) and exactly as
 * `reference` (the same service without a replica) answers it.
 */
export async function expectServedBy(
  app: NestFastifyApplication,
  reference: NestFastifyApplication,
  urls: string[],
  server: 'replica' | 'primary',
  variants: Record<string, string>[] = [{}],
): Promise<void> {
  for (const url of urls) {
    for (const headers of variants) {
      const [res, expected] = [await get(app, url, headers), await get(reference, url)];
      expect({ url, headers, status: res.statusCode, from: res.headers['x-read-from'] }).toEqual({
        url,
        headers,
        status: 200,
        from: server,
      });
      expect(res.json()).toEqual(expected.json());
    }
  }
}

/** Without waiting for the replica, and with the usual wait. */
export const BOTH_WAITS: Record<string, string>[] = [{}, { prefer: 'wait=0' }];
