import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { AppScopedQueryDto, QueryTime } from '../common/query-params';

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
