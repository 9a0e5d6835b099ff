import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { Page, PageQueryDto } from '../common/paging';
import { AppScopedQueryDto, QueryTime } from '../common/query-params';
import { MessageDto } from './messages.dto';

/** `GET /analytics/conversations?from&to&receiverType&limit&appId`. */
export class ConversationsQueryDto extends AppScopedQueryDto {
  @QueryTime('Message sentAt, inclusive. Default: 24 hours before `to`.')
  from?: Date;
  @QueryTime('Message sentAt, exclusive. Default: now.')
  to?: Date;
  @ApiPropertyOptional({ enum: ['user', 'group'] })
  @IsOptional()
  @IsIn(['user', 'group'], { message: 'receiverType must be user or group' })
  receiverType?: 'user' | 'group';
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 10;
}

export class BusyConversationDto {
  @ApiProperty() appId: string;
  @ApiProperty({ example: 'cometchat-uid-1_user_cometchat-uid-2' }) conversationId: string;
  @ApiProperty({ enum: ['user', 'group'] }) receiverType: string;
  @ApiProperty({
    type: 'integer',
    description: 'Messages sent in the window and not deleted (edited ones included)',
  })
  messages: number;
  @ApiProperty({ type: 'integer', description: 'Of those messages, the ones edited since' })
  edited: number;
  @ApiProperty({
    type: 'integer',
    description: 'Messages sent in the window and deleted since: counted here, not in messages',
  })
  deleted: number;
  @ApiProperty({ type: 'integer', description: 'Distinct senders of the messages not deleted' })
  senders: number;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The latest sentAt of the messages not deleted; null when all were deleted',
  })
  lastMessageAt: string | null;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description:
      "Median read latency of the not-deleted messages' read receipts; null when none was read",
  })
  readP50Ms: number | null;
}

export class BusyConversationsDto {
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: [BusyConversationDto], description: 'Most messages first' })
  items: BusyConversationDto[];
}

/** `GET /conversations/:id/messages?from&to&appId&limit&cursor`. */
export class ConversationMessagesQueryDto extends PageQueryDto {
  @QueryTime('Message sentAt, inclusive.')
  from?: Date;
  @QueryTime('Message sentAt, exclusive: [from, to).')
  to?: Date;
}

export class MessageReadStateDto {
  @ApiProperty({ description: 'The member who got or read the message' }) uid: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'at minus the message sentAt' })
  latencyMs: number | null;
  @ApiProperty({
    description: 'Derived from a receipt for a later message (or, for delivery, from a read)',
  })
  implied: boolean;
}

export class ConversationMessageDto extends MessageDto {
  @ApiProperty({ type: [MessageReadStateDto], description: 'Delivery receipts, by uid' })
  delivered: MessageReadStateDto[];
  @ApiProperty({ type: [MessageReadStateDto], description: 'Read receipts, by uid' })
  read: MessageReadStateDto[];
}

export class ConversationMessagesPageDto implements Page<ConversationMessageDto> {
  @ApiProperty({ type: [ConversationMessageDto], description: 'Newest sentAt first' })
  items: ConversationMessageDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}
