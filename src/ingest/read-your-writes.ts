import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, from, switchMap } from 'rxjs';
import { AppConfig } from '../config/app-config';
import { DerivationRunner } from './derivation-runner.service';

const READS_DERIVED_STATE = 'readsDerivedState';
/** Routes answering from derived state: they wait for derivation to cover acked events. */
export const ReadsDerivedState = () => SetMetadata(READS_DERIVED_STATE, true);

/** `Prefer: wait=0` (RFC 7240) answers at once from what is derived; `wait=N` waits at most N s. */
function preferredWaitMs(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d+(?:\.\d+)?)"?/i.exec(text);
  return match ? Number(match[1]) * 1000 : undefined;
}

/** The query's appId when it can name an app (else every app's events are waited for). */
function usableAppId(query: unknown): string | undefined {
  const appId = (query as Record<string, unknown> | undefined)?.appId;
  return typeof appId === 'string' &&
    appId !== '' &&
    appId.length <= 255 &&
    appId.isWellFormed() &&
    !appId.includes('\u0000')
    ? appId
    : undefined;
}

/**
 * Read-your-writes: a query that arrives after a webhook's 200 reflects that event. Before a
 * route marked @ReadsDerivedState runs, wait (bounded by READ_YOUR_WRITES_TIMEOUT_MS, or less
 * with `Prefer: wait=N`) until derivation covers every event committed before the query came.
 * The answer says how in `X-Derivation`: fresh (nothing pending), waited, timeout (answered
 * from what was derived by then) or skipped (`Prefer: wait=0`).
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly runner: DerivationRunner,
    private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const reads = this.reflector.getAllAndOverride<boolean>(READS_DERIVED_STATE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!reads) {
      return next.handle();
    }
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const preferred = preferredWaitMs(request.headers.prefer);
    const budget = Math.min(this.config.READ_YOUR_WRITES_TIMEOUT_MS, preferred ?? Infinity);
    if (budget <= 0) {
      void reply.header('x-derivation', 'skipped');
      return next.handle();
    }
    return from(this.runner.awaitDerived(usableAppId(request.query), budget)).pipe(
      switchMap((outcome) => {
        void reply.header('x-derivation', outcome);
        return next.handle();
      }),
    );
  }
}
