import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { Page, PageQueryDto } from '../common/paging';

export class UnreadUserParamsDto {
  @ApiProperty({ description: 'The CometChat user id', example: 'cometchat-uid-2' })
  @IsString()
  @Length(1, 255)
  uid: string;
}

/** `GET /users/:uid/unread?appId&limit&cursor` */
export class UserUnreadQueryDto extends PageQueryDto {}

/** A duration as `olderThan` takes it: a whole number and a unit. */
export const DURATION = /^(\d{1,9})(ms|s|m|h|d|w)$/;

/** `GET /analytics/unread?appId&olderThan&limit&cursor` */
export class UnreadUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description:
      'Lists users with at least one message unread for longer than this: sent before now minus ' +
      'olderThan. A whole number and a unit: ms, s, m, h, d or w (a week, 7 days).',
    default: '24h',
    example: '24h',
    pattern: DURATION.source,
  })
  @IsOptional()
  @Matches(DURATION, {
    message: 'olderThan must be a whole number and a unit (ms, s, m, h, d, w), such as 24h or 7d',
  })
  olderThan = '24h';
}

const nullableTime = { type: String, format: 'date-time', nullable: true } as const;

const MEMBERSHIP_DESCRIPTION =
  'How membership was decided: `known` for a one-to-one conversation, or a group where the user ' +
  'has group member events (counted: messages sent while a member); `inferred` for a group ' +
  'where they have none but sent or had a receipt there (counted: every message of the group)';

export class UnreadConversationDto {
  @ApiProperty({ example: 'group_cometchat-guid-1' }) conversationId: string;
  @ApiProperty({ enum: ['user', 'group'] }) receiverType: string;
  @ApiProperty({ type: String, nullable: true, description: "The group's guid (groups only)" })
  guid: string | null;
  @ApiProperty({ type: 'integer', description: 'Messages unread by the user here' })
  unread: number;
  @ApiProperty({ format: 'date-time', description: 'The oldest unread message' })
  oldestUnreadSentAt: string;
  @ApiProperty({
    format: 'date-time',
    description: 'The newest unread message (the order of the list: newest first)',
  })
  newestUnreadSentAt: string;
  @ApiProperty({
    ...nullableTime,
    description:
      'When the user read the latest message they have read here; null when they read none',
  })
  lastReadAt: string | null;
  @ApiProperty({ enum: ['known', 'inferred'], description: MEMBERSHIP_DESCRIPTION })
  membership: 'known' | 'inferred';
}

export class UserUnreadDto implements Page<UnreadConversationDto> {
  @ApiProperty() uid: string;
  @ApiProperty() appId: string;
  @ApiProperty({ type: 'integer', description: 'Unread messages in all conversations' })
  total: number;
  @ApiProperty({ type: 'integer', description: 'Conversations with unread messages' })
  conversations: number;
  @ApiProperty({
    type: 'integer',
    description: 'Of total, the messages counted by inferred group membership',
  })
  inferred: number;
  @ApiProperty({
    type: [UnreadConversationDto],
    description: 'Conversations with unread messages, newest unread message first',
  })
  items: UnreadConversationDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export class UnreadUserDto {
  @ApiProperty() appId: string;
  @ApiProperty() uid: string;
  @ApiProperty({
    type: 'integer',
    description: 'Messages unread by the user and sent before `before`',
  })
  unread: number;
  @ApiProperty({ type: 'integer', description: 'Conversations holding those messages' })
  conversations: number;
  @ApiProperty({ format: 'date-time', description: "The user's oldest unread message" })
  oldestUnreadSentAt: string;
  @ApiProperty({
    type: 'integer',
    description: 'Of unread, the messages counted by inferred group membership',
  })
  inferred: number;
}

export class UnreadUsersPageDto implements Page<UnreadUserDto> {
  @ApiProperty({ example: '24h' }) olderThan: string;
  @ApiProperty({ format: 'date-time', description: 'Now minus olderThan' }) before: string;
  @ApiProperty({
    type: [UnreadUserDto],
    description: 'Users with a message unread since before `before`, by app, then uid',
  })
  items: UnreadUserDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}
