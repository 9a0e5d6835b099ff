// `npm run test:scale` runs these specs (test/scale/*.scale-spec.ts) after the Citus stage:
// each starts its own servers (replica, PgBouncer) next to the usual embedded test cluster.
const base = require('../../package.json').jest;

module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/scale'],
  testRegex: '.*\\.scale-spec\\.ts$',
};
