import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppConfig, ConfigError, loadConfig } from './app-config';

describe(loadConfig.name, () => {
  it('applies every default when the environment is empty', () => {
    const sut = loadConfig({});
    expect(sut).toBeInstanceOf(AppConfig);
    expect(sut).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATABASE_URL: undefined,
      EMBEDDED_PG_PORT: 54329,
      EMBEDDED_PG_DIR: '.data/postgres',
      RUN_MIGRATIONS: true,
      BODY_LIMIT_BYTES: 1048576,
      INGEST_MAX_BATCH: 500,
      API_KEY: undefined,
      RATE_LIMIT_MAX: 0,
      RATE_LIMIT_WINDOW_MS: 60000,
      DB_PREPARED_STATEMENTS: true,
      DATABASE_REPLICA_URL: undefined,
      REPLICA_MAX_WAIT_MS: 1000,
    });
  });

  it('takes a read replica and the pooler switch, and refuses a replica URL that is not PostgreSQL', () => {
    expect(
      loadConfig({
        DATABASE_REPLICA_URL: 'postgresql://u:p@replica.internal:5432/presence',
        REPLICA_MAX_WAIT_MS: '0',
        DB_PREPARED_STATEMENTS: 'false',
      }),
    ).toMatchObject({
      DATABASE_REPLICA_URL: 'postgresql://u:p@replica.internal:5432/presence',
      REPLICA_MAX_WAIT_MS: 0,
      DB_PREPARED_STATEMENTS: false,
    });
    expect(loadConfig({ DATABASE_REPLICA_URL: '' }).DATABASE_REPLICA_URL).toBeUndefined();
    expect(() => loadConfig({ DATABASE_REPLICA_URL: 'mysql://x' })).toThrow(/DATABASE_REPLICA_URL/);
    expect(() => loadConfig({ REPLICA_MAX_WAIT_MS: '-1' })).toThrow(/REPLICA_MAX_WAIT_MS/);
    expect(() => loadConfig({ DB_PREPARED_STATEMENTS: 'maybe' })).toThrow(/DB_PREPARED_STATEMENTS/);
  });

  it('takes a rate limit, and refuses a negative one or a window under a second', () => {
    expect(loadConfig({ RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_MS: '1000' })).toMatchObject({
      RATE_LIMIT_MAX: 100,
      RATE_LIMIT_WINDOW_MS: 1000,
    });
    expect(() => loadConfig({ RATE_LIMIT_MAX: '-1' })).toThrow(/RATE_LIMIT_MAX/);
    expect(() => loadConfig({ RATE_LIMIT_WINDOW_MS: '999' })).toThrow(/RATE_LIMIT_WINDOW_MS/);
  });

  it('reads numbers, booleans and URLs', () => {
    const sut = loadConfig({
      PORT: '8080',
      RUN_MIGRATIONS: 'false',
      DATABASE_URL: 'postgresql://u:p@db.internal:5432/presence',
      WEBHOOK_USERNAME: 'cometchat',
      WEBHOOK_PASSWORD: 'secret',
    });
    expect(sut).toMatchObject({ PORT: 8080, RUN_MIGRATIONS: false, WEBHOOK_USERNAME: 'cometchat' });
  });

  it('lists every bad variable at once', () => {
    const attempt = () =>
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        WEBHOOK_USERNAME: 'only-user',
        API_KEY: 'short',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const names = (error as ConfigError).problems.map((p) => p.split('=')[0]);
      expect(names.sort()).toEqual(['API_KEY', 'DATABASE_URL', 'PORT', 'WEBHOOK_PASSWORD']);
    }
  });

  it('stops the service with a non-zero exit and the list of problems', async () => {
    const main = path.join(__dirname, '..', 'main.ts');
    const run = promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', main],
      { env: { ...process.env, PORT: '-1', BODY_LIMIT_BYTES: 'big' } },
    );
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /Invalid configuration:\n {2}- PORT=.*\n {2}- BODY_LIMIT_BYTES=/,
      ),
    });
  });
});
