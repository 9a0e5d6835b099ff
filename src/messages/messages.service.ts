import { Injectable, NotFoundException } from '@nestjs/common';
import { BadQueryParameterError } from '../common/bad-query-parameter.error';
import { PrismaService } from '../db/prisma.service';
import { Message } from '../generated/prisma/client';
import { MessageDto, MessageQueryDto } from './messages.dto';

/** A stored message as the API shows it. */
export function messageDto(m: Omit<Message, 'eventId'>): MessageDto {
  return {
    id: m.id,
    appId: m.appId,
    sender: m.sender,
    receiver: m.receiver,
    receiverType: m.receiverType,
    conversationId: m.conversationId,
    category: m.category,
    type: m.type,
    sentAt: m.sentAt.toISOString(),
    editedAt: m.editedAt?.toISOString() ?? null,
    deletedAt: m.deletedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class MessagesService {
  constructor(private readonly prisma: PrismaService) {}

  /** One message as its events left it: sent, and perhaps edited or deleted since. */
  async findOne(id: string, query: MessageQueryDto): Promise<MessageDto> {
    const found = await this.prisma.message.findMany({
      where: { id, ...(query.appId === undefined ? {} : { appId: query.appId }) },
      orderBy: { appId: 'asc' },
      take: 10,
    });
    if (found.length === 0) {
      throw new NotFoundException(
        `message ${id} is not known${query.appId === undefined ? '' : ` in app ${query.appId}`}`,
      );
    }
    if (found.length > 1) {
      throw new BadQueryParameterError(
        'appId',
        `message ${id} is known in several apps (${found.map((m) => m.appId).join(', ')}): pass appId`,
      );
    }
    return messageDto(found[0]);
  }
}
