import { spawnSync } from 'node:child_process';
import { ROOT } from './setup/test-database';
import { testDatabaseUrl } from './setup/test-app';

const prisma = (args: string[]) =>
  spawnSync(process.execPath, [require.resolve('prisma/build/index.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: testDatabaseUrl() },
    encoding: 'utf8',
  });

describe('prisma/migrations', () => {
  // The test database was created empty and migrated with `prisma migrate deploy`.
  it('applied to an empty database, yield exactly schema.prisma', () => {
    const diff = prisma([
      'migrate',
      'diff',
      '--from-config-datasource',
      '--to-schema',
      'prisma/schema.prisma',
      '--exit-code',
    ]);
    expect({ status: diff.status, stdout: diff.stdout.trim() }).toEqual({
      status: 0,
      stdout: 'No difference detected.',
    });
  });

  it('match schema.prisma on their own, through a shadow database', () => {
    const diff = prisma([
      'migrate',
      'diff',
      '--from-migrations',
      'prisma/migrations',
      '--to-schema',
      'prisma/schema.prisma',
      '--exit-code',
    ]);
    expect({ status: diff.status, stdout: diff.stdout.trim() }).toEqual({
      status: 0,
      stdout: 'No difference detected.',
    });
  });

  it('are all recorded in _prisma_migrations, as Prisma keeps it', () => {
    const status = prisma(['migrate', 'status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain('Database schema is up to date!');
  });
});
