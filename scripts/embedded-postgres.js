'use strict';
// node scripts/embedded-postgres.js start|stop|url: the service's embedded PostgreSQL by hand.
const {
  ensure,
  stop,
  defaults,
  urlFor,
  EmbeddedPostgresError,
} = require('../src/db/embedded-postgres');

if (require.main === module) {
  const [command] = process.argv.slice(2);
  if (command === 'start') {
    try {
      const { url, startedHere } = ensure();
      console.log(startedHere ? `started ${url}` : `already running ${url}`);
    } catch (error) {
      if (!(error instanceof EmbeddedPostgresError)) {
        throw error;
      }
      console.error(error.message);
      process.exit(1);
    }
  } else if (command === 'stop') {
    console.log(stop() ? 'stopped' : 'not running');
  } else if (command === 'url') {
    console.log(urlFor(defaults()));
  } else {
    console.error('usage: node scripts/embedded-postgres.js start|stop|url');
    process.exit(2);
  }
}
