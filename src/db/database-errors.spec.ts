import { isCausedByValues, isDatabaseFault, sqlState } from './database-errors';

const pgError = (code: string) =>
  Object.assign(new Error(`pg ${code}`), { code, severity: 'ERROR' });

describe(isDatabaseFault.name, () => {
  it.each([
    ['22001', 'string_data_right_truncation'],
    ['22003', 'numeric_value_out_of_range'],
    ['22008', 'datetime_field_overflow'],
    ['22P02', 'invalid_text_representation'],
    ['22P05', 'untranslatable_character'],
    ['23502', 'not_null_violation'],
    ['23503', 'foreign_key_violation'],
    ['23514', 'check_violation'],
    ['54000', 'program_limit_exceeded (index row size)'],
  ])('%s %s is the values’ fault: 400', (code) => {
    expect(isCausedByValues(pgError(code))).toBe(true);
    expect(isDatabaseFault(pgError(code))).toBe(false);
  });

  it.each([
    ['53100', 'disk_full'],
    ['53200', 'out_of_memory'],
    ['53300', 'too_many_connections'],
    ['42883', 'undefined_function'],
    ['58P01', 'undefined_file (a library)'],
    ['42501', 'insufficient_privilege'],
    ['42P01', 'undefined_table'],
    ['57014', 'query_canceled (statement timeout)'],
    ['25006', 'read_only_sql_transaction'],
    ['57P01', 'admin_shutdown'],
    ['08006', 'connection_failure'],
    ['40001', 'serialization_failure'],
    ['40P01', 'deadlock_detected'],
    ['23505', 'unique_violation (a concurrent writer)'],
    ['23P01', 'exclusion_violation'],
    ['54001', 'statement_too_complex'],
    ['P0001', 'raise_exception'],
    ['XX000', 'internal_error'],
    ['55P03', 'lock_not_available'],
  ])('%s %s is the database’s: 503', (code) => {
    expect(isCausedByValues(pgError(code))).toBe(false);
    expect(isDatabaseFault(pgError(code))).toBe(true);
  });

  it('reads the SQLSTATE through Prisma’s driver adapter error, not Node or Prisma codes', () => {
    const prisma = Object.assign(new Error('x'), {
      name: 'PrismaClientKnownRequestError',
      code: 'P2010',
      meta: { driverAdapterError: { cause: { originalCode: '42501', kind: 'postgres' } } },
    });
    expect(sqlState(prisma)).toBe('42501');
    expect(sqlState(Object.assign(new Error('x'), { code: 'EPERM' }))).toBeNull();
    expect(sqlState(Object.assign(new Error('x'), { code: 'P2002' }))).toBeNull();
  });

  it('a defect of ours is no database fault: 500', () => {
    expect(isDatabaseFault(new TypeError('x is undefined'))).toBe(false);
    expect(isCausedByValues(new TypeError('x is undefined'))).toBe(false);
  });
});
