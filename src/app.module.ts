import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AnalyticsModule } from './analytics/analytics.module';
import { ApiKeyGuard } from './common/api-key.guard';
import { Clock, SystemClock } from './common/clock';
import { loggerParams } from './common/logging';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { AllExceptionsFilter } from './db/all-exceptions.filter';
import { DATABASE_URL, DbModule } from './db/db.module';
import { EventsModule } from './events/events.module';
import { ExportsModule } from './exports/exports.module';
import { HealthModule } from './health/health.module';
import { IngestModule } from './ingest/ingest.module';
import { ReadYourWritesInterceptor } from './ingest/read-your-writes';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { ConnectionsModule } from './connections/connections.module';
import { GroupsModule } from './groups/groups.module';
import { ReceiptsModule } from './receipts/receipts.module';
import { UnreadModule } from './unread/unread.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(
    config: AppConfig,
    databaseUrl: string,
    logDestination?: DestinationStream,
    clock: Clock = new SystemClock(),
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, [
          { provide: DATABASE_URL, useValue: databaseUrl },
          { provide: Clock, useValue: clock },
        ]),
        LoggerModule.forRoot(loggerParams(config, logDestination)),
        DbModule,
        MetricsModule,
        IngestModule,
        WebhooksModule,
        MessagesModule,
        ReceiptsModule,
        ConnectionsModule,
        GroupsModule,
        UnreadModule,
        EventsModule,
        ExportsModule,
        HealthModule,
        AnalyticsModule,
        DashboardModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
      ],
    };
  }
}
