import { Logger } from '@nestjs/common';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { createApp } from './app.setup';
import { loggerParams } from './common/logging';
import { ConfigError, loadConfig } from './config/app-config';
import { applyMigrations, openDatabase } from './db/database';

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
  const database = openDatabase(config);
  if (config.RUN_MIGRATIONS) await applyMigrations(database.url);
  const app = await createApp(config, database.url);
  await app.listen(config.PORT, config.HOST);
  logger.log(
    `Listening on http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}`,
  );

  // Drain on SIGTERM/SIGINT: stop accepting, answer and commit what is in flight, then stop
  // the embedded database if this process started it.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
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
