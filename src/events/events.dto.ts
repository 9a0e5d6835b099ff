import { IsDate, IsOptional, IsString, Length } from 'class-validator';
import { PageQueryDto, ToDate } from '../common/query-params';

export class EventsQueryDto extends PageQueryDto {
  @IsOptional() @IsString() @Length(1, 100) trigger?: string;
  @IsOptional() @IsString() @Length(1, 255) uid?: string;
  /** On the event's own time (received time when it has none). */
  @IsOptional()
  @ToDate()
  @IsDate({ message: 'from must be an ISO-8601 time or a Unix time' })
  from?: Date;
  @IsOptional()
  @ToDate()
  @IsDate({ message: 'to must be an ISO-8601 time or a Unix time' })
  to?: Date;
}

export class RejectedEventsQueryDto extends PageQueryDto {}

export interface StoredEventDto {
  eventId: string;
  appId: string;
  trigger: string;
  webhook: string | null;
  uid: string | null;
  eventAt: string;
  receivedAt: string;
  body: unknown;
}

export interface RejectedEventDto {
  id: string;
  appId: string | null;
  trigger: string | null;
  reason: string;
  field: string | null;
  contentType: string | null;
  receivedAt: string;
  /** The body as received, as UTF-8 text. */
  body: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
