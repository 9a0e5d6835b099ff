import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { Page } from '../common/paging';
import {
  AppsDto,
  AppsQueryDto,
  EventsQueryDto,
  RejectedEventDto,
  RejectedEventsPageDto,
  RejectedEventsQueryDto,
  StoredEventDto,
  StoredEventsPageDto,
} from './events.dto';
import { EventsService } from './events.service';
import { PrefersReplica } from '../ingest/read-your-writes';

// Unprefixed: `/apps` is read from the raw log like `/events`, so it lives here.
@ApiTags('events')
@PrefersReplica()
@Controller()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get('apps')
  @ApiQueryEndpoint(
    'The apps the raw log holds, with their event counts and latest event times',
    'By app id. With `appId`, that app only (no items when the log has none of its events).',
  )
  @ApiOkResponse({ type: AppsDto })
  apps(@Query() query: AppsQueryDto): Promise<AppsDto> {
    return this.events.apps(query);
  }

  @Get('events')
  @ApiQueryEndpoint('The raw event log, newest event time first')
  @ApiOkResponse({ type: StoredEventsPageDto })
  list(@Query() query: EventsQueryDto): Promise<Page<StoredEventDto>> {
    return this.events.list(query);
  }

  @Get('events/rejected')
  @ApiQueryEndpoint('Bodies answered 400, newest first, byte for byte as received')
  @ApiOkResponse({ type: RejectedEventsPageDto })
  listRejected(@Query() query: RejectedEventsQueryDto): Promise<Page<RejectedEventDto>> {
    return this.events.listRejected(query);
  }
}
