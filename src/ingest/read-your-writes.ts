import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, catchError, finalize, from, switchMap, throwError } from 'rxjs';
import { AppConfig } from '../config/app-config';
import { isReplicaFault, ReadReplica, ReadServer } from '../db/read-replica.service';
import { MetricsService } from '../metrics/metrics.service';
import { DerivationRunner } from './derivation-runner.service';

const READS_DERIVED_STATE = 'readsDerivedState';
/** Routes answering from derived state: they wait for derivation to cover acked events. */
export const ReadsDerivedState = () => SetMetadata(READS_DERIVED_STATE, true);
const PREFERS_REPLICA = 'prefersReplica';
/**
 * Heavy reads (analytics, session history, the event log): served by DATABASE_REPLICA_URL's
 * replica once it has replayed what the primary would show, else by the primary.
 */
export const PrefersReplica = () => SetMetadata(PREFERS_REPLICA, true);

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
 * Then a route marked @PrefersReplica reads from the replica if it has replayed the primary's
 * WAL as of that moment (waiting at most REPLICA_MAX_WAIT_MS, or N s), else from the primary;
 * `X-Read-From` says which. A replica that fails the read hands it to the primary.
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly runner: DerivationRunner,
    private readonly config: AppConfig,
    private readonly replica: ReadReplica,
    private readonly metrics: MetricsService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const marked = (key: string) =>
      this.reflector.getAllAndOverride<boolean>(key, [context.getHandler(), context.getClass()]);
    const reads = marked(READS_DERIVED_STATE);
    const heavy = marked(PREFERS_REPLICA);
    if (!reads && !heavy) {
      return next.handle();
    }
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const preferred = preferredWaitMs(request.headers.prefer);
    const due = async (): Promise<ReadServer> => {
      if (reads) {
        void reply.header('x-derivation', await this.awaitDerived(request, preferred));
      }
      return heavy
        ? this.replica.choose(
            preferred === 0
              ? 'as-is'
              : Math.min(this.config.REPLICA_MAX_WAIT_MS, preferred ?? Infinity),
          )
        : 'primary';
    };
    return from(due()).pipe(
      switchMap((server) => (heavy ? this.readOn(server, next, reply) : next.handle())),
    );
  }

  private async awaitDerived(
    request: FastifyRequest,
    preferred: number | undefined,
  ): Promise<string> {
    const budget = Math.min(this.config.READ_YOUR_WRITES_TIMEOUT_MS, preferred ?? Infinity);
    return budget <= 0 ? 'skipped' : this.runner.awaitDerived(usableAppId(request.query), budget);
  }

  private readOn(server: ReadServer, next: CallHandler, reply: FastifyReply): Observable<unknown> {
    let servedBy = server;
    void reply.header('x-read-from', server);
    return this.replica
      .readOn(server, () => next.handle())
      .pipe(
        catchError((error: unknown) => {
          if (server !== 'replica' || !isReplicaFault(error)) {
            return throwError(() => error);
          }
          this.replica.readFailed(error);
          servedBy = 'primary';
          void reply.header('x-read-from', 'primary');
          return this.replica.readOn('primary', () => next.handle());
        }),
        finalize(() => this.metrics.routedReads.inc({ served_by: servedBy })),
      );
  }
}
