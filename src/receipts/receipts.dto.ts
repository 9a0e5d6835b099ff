import { ApiProperty } from '@nestjs/swagger';
import { AppScopedQueryDto } from '../common/query-params';

export class MessageReceiptsQueryDto extends AppScopedQueryDto {}

const nullableTime = { type: String, format: 'date-time', nullable: true } as const;

export class ReceiptEntryDto {
  @ApiProperty({ description: 'Who got or read the message' }) uid: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: "Receipt time minus the message's sentAt; null until the message is known",
  })
  latencyMs: number | null;
  @ApiProperty({
    description: 'Derived from a receipt for a later message (or, for delivery, from a read)',
  })
  implied: boolean;
}

export class ReceiptSummaryDto {
  @ApiProperty({
    type: 'integer',
    description: 'One-to-one: 1. Groups: the distinct members with a known receipt',
  })
  recipients: number;
  @ApiProperty({ type: 'integer' }) deliveredCount: number;
  @ApiProperty({ type: 'integer' }) readCount: number;
  @ApiProperty({ ...nullableTime, description: 'Groups: message_delivered_to_all' })
  deliveredToAllAt: string | null;
  @ApiProperty({ ...nullableTime, description: 'Groups: message_read_by_all' })
  readByAllAt: string | null;
}

export class MessageReceiptsDto {
  @ApiProperty() messageId: string;
  @ApiProperty() appId: string;
  @ApiProperty({ type: String, nullable: true }) sender: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'A uid or a guid' })
  receiver: string | null;
  @ApiProperty({ enum: ['user', 'group'], nullable: true }) receiverType: 'user' | 'group' | null;
  @ApiProperty({ type: String, nullable: true }) conversationId: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'CometChat category (message, custom, …); null until the message is known',
  })
  category: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'CometChat type (text, image, …)' })
  type: string | null;
  @ApiProperty({ ...nullableTime, description: 'Null while the message itself has not arrived' })
  sentAt: string | null;
  @ApiProperty({ ...nullableTime, description: 'The latest edit; null when never edited' })
  editedAt: string | null;
  @ApiProperty({ ...nullableTime, description: 'When it was deleted; null when not deleted' })
  deletedAt: string | null;
  @ApiProperty({ type: [ReceiptEntryDto] }) delivered: ReceiptEntryDto[];
  @ApiProperty({ type: [ReceiptEntryDto] }) read: ReceiptEntryDto[];
  @ApiProperty({ type: ReceiptSummaryDto }) summary: ReceiptSummaryDto;
}
