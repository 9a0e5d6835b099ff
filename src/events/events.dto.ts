import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { Page, PageQueryDto } from '../common/paging';
import { AppScopedQueryDto, QueryTime } from '../common/query-params';

export class EventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'after_message' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  trigger?: string;
  @ApiPropertyOptional({
    description: 'The user the event is about (sender, reader, or connecting user)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  uid?: string;
  @QueryTime("On the event's own time (received time when it has none), inclusive.")
  from?: Date;
  @QueryTime('Exclusive: [from, to), so consecutive windows never list an event twice.')
  to?: Date;
}

export class RejectedEventsQueryDto extends PageQueryDto {}

export class StoredEventDto {
  @ApiProperty({ example: '1' }) eventId: string;
  @ApiProperty({ example: '167*****1529' }) appId: string;
  @ApiProperty({ example: 'after_message' }) trigger: string;
  @ApiProperty({ type: String, nullable: true, example: 'send-message' }) webhook: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'cometchat-uid-5' }) uid: string | null;
  @ApiProperty({
    format: 'date-time',
    description: "The event's own time (received time when it has none)",
  })
  eventAt: string;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The body as received' })
  body: unknown;
}

export class RejectedEventDto {
  @ApiProperty({ example: '1' }) id: string;
  @ApiProperty({ type: String, nullable: true }) appId: string | null;
  @ApiProperty({ type: String, nullable: true }) trigger: string | null;
  @ApiProperty({ example: 'data.sentAt must be a Unix time (number or numeric string)' })
  reason: string;
  @ApiProperty({ type: String, nullable: true, example: 'data.sentAt' }) field: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'application/json' })
  contentType: string | null;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty({ description: 'The body as received, as UTF-8 text' })
  body: string;
}

export class StoredEventsPageDto implements Page<StoredEventDto> {
  @ApiProperty({ type: [StoredEventDto] }) items: StoredEventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export class RejectedEventsPageDto implements Page<RejectedEventDto> {
  @ApiProperty({ type: [RejectedEventDto] }) items: RejectedEventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export class AppsQueryDto extends AppScopedQueryDto {}

export class AppSummaryDto {
  @ApiProperty({ example: '167*****1529' }) appId: string;
  @ApiProperty({ type: 'integer', description: 'Events of the app in the raw log' })
  events: number;
  @ApiProperty({ format: 'date-time', description: 'Its latest event time' })
  lastEventAt: string;
}

export class AppsDto {
  @ApiProperty({ type: [AppSummaryDto], description: 'By app id' }) items: AppSummaryDto[];
}
