import { Module } from '@nestjs/common';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';
import { MessagesController } from './messages.controller';
import { MessagesDerivation } from './messages.derivation';
import { MessagesService } from './messages.service';

/** Messages end to end: their derivation (edits, deletes), the message and conversation queries. */
@Module({
  controllers: [MessagesController, ConversationsController],
  providers: [MessagesDerivation, MessagesService, ConversationsService],
})
export class MessagesModule {}
