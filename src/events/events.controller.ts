import { Controller, Get, Query } from '@nestjs/common';
import {
  EventsQueryDto,
  Page,
  RejectedEventDto,
  RejectedEventsQueryDto,
  StoredEventDto,
} from './events.dto';
import { EventsService } from './events.service';

@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  list(@Query() query: EventsQueryDto): Promise<Page<StoredEventDto>> {
    return this.events.list(query);
  }

  @Get('rejected')
  listRejected(@Query() query: RejectedEventsQueryDto): Promise<Page<RejectedEventDto>> {
    return this.events.listRejected(query);
  }
}
