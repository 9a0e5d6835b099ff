import { Logger } from '@nestjs/common';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { EmbeddedPostgresError } from './db/embedded-postgres';
import { describeHolder, freePortNear, isPortTaken } from './db/port-holder';
import { createApp } from './app.setup';
import { loggerParams } from './common/logging';
import { ConfigError, loadConfig } from './config/app-config';
import { applyMigrations, openDatabase } from './db/database';

/** One paragraph instead of Nest's EADDRINUSE stack: which port, who holds it, what to set. */
function portInUse(host: string, port: number): never {
  console.error(
    `Cannot listen on ${host}:${port}: port ${port} is already in use by ${describeHolder(port)}. ` +
      `It may be this service started from another checkout or terminal, or any other program. ` +
      `Stop it, or start this one on another port: PORT=${freePortNear(port, host)} npm start.`,
  );
  process.exit(1);
}

async function main(): Promise<void> {
  const logger = new Logger('Main');
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  // The embedded database and the migrations log before the app exists: through pino too, so
  // production output is JSON from the first line (the app reuses this same pino instance).
  const params = loggerParams(config);
  Logger.overrideLogger(new PinoNestLogger(new PinoLogger(params), params));
  // Before the database starts and migrations run: a taken port needs none of that to be told.
  if (config.PORT !== 0 && isPortTaken(config.PORT, config.HOST)) {
    portInUse(config.HOST, config.PORT);
  }
  let database;
  try {
    database = openDatabase(config);
  } catch (error) {
    if (error instanceof EmbeddedPostgresError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  if (config.RUN_MIGRATIONS) {
    await applyMigrations(database.url);
  }
  const app = await createApp(config, database.url);
  try {
    await app.listen(config.PORT, config.HOST);
  } catch (error) {
    // Taken since the check above.
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw error;
    }
    await app.close();
    database.close();
    portInUse(config.HOST, config.PORT);
  }
  logger.log(
    `Listening on http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}`,
  );

  // Drain on SIGTERM/SIGINT: stop accepting, answer and commit what is in flight, then stop
  // the embedded database if this process started it.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.log(`${signal}: draining`);
    setTimeout(() => {
      logger.error(`Shutdown took over ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    void app
      .close()
      .then(() => database.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
