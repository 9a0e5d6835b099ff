import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { isDatabaseFault, sqlState } from './database-errors';

/**
 * The one exception filter: HTTP errors pass through, a bad query parameter is 400 naming it, a
 * database fault (unreachable, disk full, permissions, a missing function, a timeout, read-only…)
 * is 503 with Retry-After (so CometChat retries), anything else is 500 with the request id;
 * database text and stacks stay in the logs.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, body } = this.toResponse(exception, request.id);
    // The request id is on every line already (nestjs-pino binds it for the whole request).
    if (status === 503) {
      // A 503 HttpException (readiness) has said why itself.
      if (!(exception instanceof HttpException)) {
        this.logger.warn(
          `${request.method} ${request.url}: database unavailable: ${(exception as Error).message}`,
        );
      }
      void reply.header('Retry-After', '5');
    } else if (status >= 500) {
      this.logger.error(`${request.method} ${request.url}`, (exception as Error)?.stack);
    }
    void reply.status(status).send(body);
  }

  private toResponse(exception: unknown, requestId: string): { status: number; body: object } {
    if (exception instanceof BadQueryParameterError) {
      return { status: HttpStatus.BAD_REQUEST, body: exception.toBody() };
    }
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const body =
        typeof response === 'string'
          ? { statusCode: exception.getStatus(), message: response }
          : response;
      return { status: exception.getStatus(), body };
    }
    if (isDatabaseFault(exception)) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'The database is unavailable; retry later.',
        },
      };
    }
    // Fastify's own errors (body too large, bad content) carry their status.
    const statusCode = (exception as { statusCode?: unknown })?.statusCode;
    if (
      typeof statusCode === 'number' &&
      statusCode >= 400 &&
      statusCode < 500 &&
      sqlState(exception) === null
    ) {
      return { status: statusCode, body: { statusCode, message: (exception as Error).message } };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { statusCode: 500, error: 'Internal Server Error', requestId },
    };
  }
}
