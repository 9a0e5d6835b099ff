import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { DashboardService } from './dashboard.service';

/** `GET /`: a live page over the query API, served by the app itself. */
@Module({ controllers: [DashboardController], providers: [DashboardService] })
export class DashboardModule {}
