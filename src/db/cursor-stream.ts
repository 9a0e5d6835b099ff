import { Readable } from 'node:stream';
import { Pool, PoolClient } from 'pg';
import { isConnectionError } from './database-errors';

/** Values arrive as PostgreSQL's text, unparsed: the query formats them itself. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

export interface CursorStreamOptions {
  /** The query (parameters $1…), run under DECLARE … CURSOR in a read-only transaction. */
  text: string;
  values: unknown[];
  /** Rows per FETCH; a chunk of the stream holds one FETCH's rows. */
  batch: number;
  /** Written before the first row (a CSV header), or null. */
  head: string | null;
  /** One row (its columns as text or null) as the text it becomes in the stream. */
  encode: (row: (string | null)[]) => string;
  /** Told how many rows each chunk holds (progress bars). */
  onRows?: (rows: number) => void;
}

/**
 * A query's rows as a byte stream that never holds more than one FETCH of them: one pool
 * connection, a server-side cursor (DECLARE … NO SCROLL CURSOR, FETCH n) in one read-only
 * REPEATABLE READ transaction, so the rows come from one snapshot. The next FETCH is sent only
 * when the consumer asks for more (_read), so a slow client slows the query, never fills memory.
 * Destroying the stream (a client that hangs up) rolls back and gives the connection back.
 */
export class CursorStream extends Readable {
  private fetching?: Promise<void>;
  private finished = false;

  private constructor(
    private client: PoolClient | undefined,
    private readonly options: CursorStreamOptions,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  /** Opens the cursor first, so a query that cannot start fails before any byte is answered. */
  static async open(pool: Pool, options: CursorStreamOptions): Promise<CursorStream> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query({
        text: `DECLARE export_rows NO SCROLL CURSOR FOR ${options.text}`,
        values: options.values,
      });
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(isConnectionError(error) ? (error as Error) : undefined);
      throw error;
    }
    const stream = new CursorStream(client, options);
    if (options.head !== null) {
      stream.push(options.head);
    }
    return stream;
  }

  override _read(): void {
    if (this.fetching === undefined && !this.finished) {
      this.fetching = this.fetchOnce().finally(() => {
        this.fetching = undefined;
      });
    }
  }

  private async fetchOnce(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    try {
      const { rows } = await client.query<(string | null)[]>({
        text: `FETCH ${this.options.batch} FROM export_rows`,
        rowMode: 'array',
        types: RAW_TEXT,
      });
      if (this.destroyed) {
        return;
      }
      if (rows.length === 0) {
        this.finished = true;
        await client.query('COMMIT');
        this.release();
        this.push(null);
        return;
      }
      let chunk = '';
      for (const row of rows) {
        chunk += this.options.encode(row);
      }
      this.options.onRows?.(rows.length);
      this.push(chunk);
    } catch (error) {
      this.destroy(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void (async () => {
      await this.fetching;
      const client = this.client;
      if (client !== undefined) {
        this.client = undefined;
        const broken = error !== null && isConnectionError(error);
        if (!broken) {
          await client.query('ROLLBACK').catch(() => undefined);
        }
        client.release(broken ? error : undefined);
      }
      callback(error);
    })();
  }

  private release(): void {
    this.client?.release();
    this.client = undefined;
  }
}
