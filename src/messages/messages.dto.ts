import { ApiProperty } from '@nestjs/swagger';
import { AppScopedQueryDto } from '../common/query-params';

export class MessageQueryDto extends AppScopedQueryDto {}

const nullableTime = { type: String, format: 'date-time', nullable: true } as const;

export class MessageDto {
  @ApiProperty({ example: '1' }) id: string;
  @ApiProperty() appId: string;
  @ApiProperty({ example: 'cometchat-uid-1' }) sender: string;
  @ApiProperty({ description: 'A uid or a guid', example: 'cometchat-uid-2' }) receiver: string;
  @ApiProperty({ enum: ['user', 'group'] }) receiverType: string;
  @ApiProperty({ example: 'cometchat-uid-1_user_cometchat-uid-2' }) conversationId: string;
  @ApiProperty({ type: String, nullable: true, example: 'message' }) category: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'text' }) type: string | null;
  @ApiProperty({ format: 'date-time' }) sentAt: string;
  @ApiProperty({ ...nullableTime, description: 'The latest edit; null when never edited' })
  editedAt: string | null;
  @ApiProperty({ ...nullableTime, description: 'The earliest delete; null when not deleted' })
  deletedAt: string | null;
}
