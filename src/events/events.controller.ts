import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryEndpoint } from '../common/openapi';
import { Page } from '../common/paging';
import {
  EventsQueryDto,
  RejectedEventDto,
  RejectedEventsPageDto,
  RejectedEventsQueryDto,
  StoredEventDto,
  StoredEventsPageDto,
} from './events.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiQueryEndpoint('The raw event log, newest event time first')
  @ApiOkResponse({ type: StoredEventsPageDto })
  list(@Query() query: EventsQueryDto): Promise<Page<StoredEventDto>> {
    return this.events.list(query);
  }

  @Get('rejected')
  @ApiQueryEndpoint('Bodies answered 400, newest first, byte for byte as received')
  @ApiOkResponse({ type: RejectedEventsPageDto })
  listRejected(@Query() query: RejectedEventsQueryDto): Promise<Page<RejectedEventDto>> {
    return this.events.listRejected(query);
  }
}
