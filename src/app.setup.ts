import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { BadQueryParameterError } from './common/bad-query-parameter.error';
import { Clock } from './common/clock';
import { requestId } from './common/logging';
import { setupOpenApi } from './common/openapi';
import { registerSecurity } from './common/security';
import { AppConfig } from './config/app-config';
import { registerWebhookEdge } from './webhooks/webhook-edge';

/** Builds the app exactly as it runs in production; tests use it too, with app.inject(). */
export async function createApp(
  config: AppConfig,
  databaseUrl: string,
  options: { logDestination?: DestinationStream; clock?: Clock } = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Ids are up to 255 characters (and may be percent-encoded); Fastify's default is 100.
    routerOptions: { maxParamLength: 1024 },
    // The caller's x-request-id when it looks like one, else a UUID; echoed in the answer.
    genReqId: requestId,
  });
  // Webhook bodies are read as bytes whatever their Content-Type claims (CometChat has sent
  // `Application/json`), so a body that is not JSON can be kept verbatim and answered 400.
  const fastify = adapter.getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  // Credentials and a malformed Content-Type are dealt with before the body is read.
  registerWebhookEdge(fastify as unknown as FastifyInstance, config);
  // While closing, answer what is in flight with `Connection: close`, so keep-alive clients
  // (CometChat, load balancers) let go at once instead of holding the shutdown open.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    if (closing) {
      void reply.header('connection', 'close');
    }
  });

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, databaseUrl, options.logDestination, options.clock),
    adapter,
    { bufferLogs: true, bodyParser: false },
  );
  // Start-up lines were held back until pino is in place; Nest itself flushes only on listen().
  app.useLogger(app.get(Logger));
  app.flushLogs();
  await registerSecurity(app, config);
  setupOpenApi(app);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => {
        return new BadQueryParameterError(
          errors[0]?.property,
          errors
            .flatMap((e) =>
              Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }),
            )
            .join('; '),
        );
      },
    }),
  );
  return app;
}
